import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../../src/engine/data/load';
import { unpickle } from '../../../src/engine/data/pickle';
import type { DatasetPair } from '../../../src/engine/data/types';
import { cifar100Pickle, cifar10Pickle, metaPickle, planar, tarArchive } from './cifarFixtures';

// The fixtures are written by cifarFixtures.ts in the opcodes of Python 2's cPickle (the real
// archives'); checked once against Python 3.12's pickle.load(encoding='bytes') + numpy 2.4.

const NAMES10 = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'];

function py10Members(): [string, Buffer][] {
  const m: [string, Buffer][] = [];
  for (let b = 1; b <= 5; b++) m.push([`cifar-10-batches-py/data_batch_${b}`, cifar10Pickle([b % 10, (b + 3) % 10], b)]);
  m.push(['cifar-10-batches-py/test_batch', cifar10Pickle([9, 0, 4], 100)]);
  m.push(['cifar-10-batches-py/batches.meta', metaPickle('label_names', NAMES10)]);
  return m;
}

function bin10Members(): [string, Buffer][] {
  const rec = (labels: number[], seed: number): Buffer => {
    const px = planar(labels.length, seed);
    return Buffer.concat(labels.map((y, r) => Buffer.concat([Buffer.from([y]), px.subarray(r * 3072, (r + 1) * 3072)])));
  };
  const m: [string, Buffer][] = [];
  for (let b = 1; b <= 5; b++) m.push([`cifar-10-batches-bin/data_batch_${b}.bin`, rec([b % 10, (b + 3) % 10], b)]);
  m.push(['cifar-10-batches-bin/test_batch.bin', rec([9, 0, 4], 100)]);
  return m;
}

function writeMembers(root: string, members: [string, Buffer][]): void {
  for (const [name, body] of members) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), body);
  }
}

/** The pixel test image 1 has at (y=2, x=5) in channel ch, as planar() wrote it with seed 100. */
function checkTest10(pair: DatasetPair): void {
  assert.equal(pair.train.count, 10);
  assert.deepEqual(Array.from(pair.train.labels), [1, 4, 2, 5, 3, 6, 4, 7, 5, 8]);
  assert.deepEqual(Array.from(pair.test.labels), [9, 0, 4]);
  const p = 2 * 32 + 5;
  for (let ch = 0; ch < 3; ch++) assert.equal(pair.test.images[3072 + p * 3 + ch], (100 + 13 + ch * 50 + p) % 256);
}

describe('data: CIFAR python, binary and .tar.gz layouts', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'fap-cifarfmt-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads cifar-10-batches-py from its parent folder, with the class names of batches.meta', async () => {
    writeMembers(dir, py10Members());
    const pair = await loadDataset({ name: 'cifar10', path: dir });
    checkTest10(pair);
    assert.deepEqual(pair.train.classNames, NAMES10);
    assert.equal(pair.train.source, path.join(dir, 'cifar-10-batches-py'));
  });

  it('reads cifar-10-python.tar.gz and cifar-10-binary.tar.gz as downloaded, to the same images', async () => {
    writeFileSync(path.join(dir, 'cifar-10-python.tar.gz'), tarArchive(py10Members()));
    writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz'), tarArchive(bin10Members()));
    const py = await loadDataset({ name: 'cifar10', path: path.join(dir, 'cifar-10-python.tar.gz') });
    const bin = await loadDataset({ name: 'cifar10', path: path.join(dir, 'cifar-10-binary.tar.gz') });
    checkTest10(py);
    checkTest10(bin);
    assert.deepEqual(py.train.images, bin.train.images);
    assert.deepEqual(py.train.classNames, NAMES10);
    assert.equal(bin.train.classNames[0], 'airplane');
  });

  it('reads CIFAR-100 python (fine and coarse labels) and binary', async () => {
    const fine = ['apple', ...Array.from({ length: 99 }, (_, i) => `f${i + 1}`)];
    const coarse = Array.from({ length: 20 }, (_, i) => `c${i}`);
    writeFileSync(path.join(dir, 'c100.tgz'), tarArchive([
      ['cifar-100-python/train', cifar100Pickle([0, 99, 42], [0, 19, 7], 3)],
      ['cifar-100-python/test', cifar100Pickle([5, 6], [1, 2], 4)],
      ['cifar-100-python/meta', metaPickle('fine_label_names', fine, 'coarse_label_names', coarse)],
    ]));
    const f = await loadDataset({ name: 'cifar100', path: path.join(dir, 'c100.tgz') });
    assert.equal(f.train.numClasses, 100);
    assert.deepEqual(Array.from(f.train.labels), [0, 99, 42]);
    assert.equal(f.train.classNames[0], 'apple');
    const c = await loadDataset({ name: 'cifar100', path: path.join(dir, 'c100.tgz'), labels: 'coarse' });
    assert.equal(c.train.numClasses, 20);
    assert.deepEqual(Array.from(c.test.labels), [1, 2]);
    assert.deepEqual(c.train.classNames, coarse);
    // Binary: coarse byte, fine byte, pixels.
    const px = planar(2, 4);
    const rec = Buffer.concat([Buffer.from([1, 5]), px.subarray(0, 3072), Buffer.from([2, 6]), px.subarray(3072)]);
    writeMembers(dir, [['cifar-100-binary/train.bin', rec], ['cifar-100-binary/test.bin', rec]]);
    const b = await loadDataset({ name: 'cifar100', path: dir });
    assert.deepEqual(Array.from(b.test.labels), [5, 6]);
    assert.deepEqual(b.test.images, f.test.images);
  });

  it('refuses what is not a CIFAR batch, in one line naming the file', async () => {
    const good = cifar10Pickle([1], 1);
    const cases: [Buffer, RegExp][] = [
      [good.subarray(0, 200), /truncated/],
      [Buffer.from('\x80\x02cos\nsystem\n(U\x02lstR.', 'latin1'), /GLOBAL os\.system \(only numpy arrays are expected\)/],
      [Buffer.from('\x80\x02}q\x01.', 'latin1'), /no "data" entry/],
      [Buffer.from('hello', 'latin1'), /unsupported pickle opcode 0x68|memo|opcode/],
    ];
    for (const [buf, re] of cases) {
      writeMembers(dir, py10Members());
      writeFileSync(path.join(dir, 'cifar-10-batches-py/data_batch_2'), buf);
      await assert.rejects(loadDataset({ name: 'cifar10', path: dir }), (e: Error) => {
        assert.match(e.message, re);
        assert.ok(e.message.startsWith(path.join(dir, 'cifar-10-batches-py/data_batch_2')), e.message);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
    // A CIFAR-100 batch read as CIFAR-10 says which it probably is.
    writeMembers(dir, py10Members());
    writeFileSync(path.join(dir, 'cifar-10-batches-py/data_batch_1'), cifar10Pickle([42], 1));
    await assert.rejects(loadDataset({ name: 'cifar10', path: dir }), /label 42, outside 0\.\.9; is this CIFAR-100\?/);
  });

  it('refuses damaged, truncated and foreign archives, and a folder without batches', async () => {
    const tgz = tarArchive(py10Members());
    const file = path.join(dir, 'c.tgz');
    writeFileSync(file, tgz.subarray(0, tgz.length - 40));
    await assert.rejects(loadDataset({ name: 'cifar10', path: file }), /c\.tgz: .*(truncated|damaged|unexpected end)/);
    const tar = tarArchive(py10Members(), false);
    tar[3] ^= 0xff;
    writeFileSync(file, tar);
    await assert.rejects(loadDataset({ name: 'cifar10', path: file }), /bad checksum/);
    writeFileSync(file, tarArchive(py10Members().filter(([n]) => !n.endsWith('batch_4'))));
    await assert.rejects(loadDataset({ name: 'cifar10', path: file }), /data_batch_4: not found; dataset "cifar10" needs data_batch_1/);
    writeFileSync(file, tarArchive([['other/readme.txt', Buffer.from('hi')]]));
    await assert.rejects(loadDataset({ name: 'cifar10', path: file }), /holds no CIFAR-10 batches; dataset "cifar10" expects cifar-10-batches-py\//);
    mkdirSync(path.join(dir, 'empty'));
    await assert.rejects(loadDataset({ name: 'cifar100', path: path.join(dir, 'empty') }), /no CIFAR-100 batches found; dataset "cifar100" expects cifar-100-python\//);
  });

  it('unpickles the protocol-2 forms Python 3 writes (bytes through _codecs.encode)', () => {
    // pickle.dumps({'k': b'\x00\xff', 'n': [1, -2]}, protocol=2) from CPython 3.12.
    const buf = Buffer.from('80027d71002858010000006b7101635f636f646563730a656e636f64650a7102580300000000c3bf71035806000000'
      + '6c6174696e31710486710552710658010000006e71075d7108284b014afeffffff65752e', 'hex');
    const v = unpickle(buf, 'x') as { kind: 'dict'; entries: Map<string, unknown> };
    assert.deepEqual(Array.from(v.entries.get('k') as Uint8Array), [0x00, 0xff]);
    assert.deepEqual(v.entries.get('n'), [1, -2]);
  });
});
