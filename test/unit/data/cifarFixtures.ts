import { gzipSync } from 'node:zlib';

// Writers for the test fixtures of the CIFAR readers: a pickle in the exact opcodes Python 2's
// cPickle (protocol 2) used for cifar-10-batches-py / cifar-100-python (numpy arrays through
// numpy.core.multiarray._reconstruct), and a ustar archive. Kept tiny on purpose: a few images.

class PickleWriter {
  private parts: Buffer[] = [Buffer.from([0x80, 0x02])];
  private memo = 1;
  op(...bytes: number[]): this { this.parts.push(Buffer.from(bytes)); return this; }
  raw(b: Buffer | string): this { this.parts.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : b); return this; }
  put(): this { return this.memo < 256 ? this.op(0x71, this.memo++) : this; }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    if (v >= 0 && v < 65536) return this.op(0x4d, v & 0xff, v >> 8);
    const b = Buffer.alloc(4); b.writeInt32LE(v); return this.op(0x4a).raw(b);
  }
  str(s: string | Buffer): this {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    if (b.length < 256) return this.op(0x55, b.length).raw(b).put();
    const n = Buffer.alloc(4); n.writeInt32LE(b.length); return this.op(0x54).raw(n).raw(b).put();
  }
  global(mod: string, name: string): this { return this.raw(`c${mod}\n${name}\n`).put(); }
  /** numpy uint8 array of `shape` over `data`, as numpy 1.x pickles it under protocol 2. */
  ndarray(shape: number[], data: Buffer, dtype = 'u1', order = '|'): this {
    this.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).op(0x85).str('b').op(0x87, 0x52).put();
    this.op(0x28).int(1);
    this.op(0x28); for (const s of shape) this.int(s); this.op(0x74);
    this.global('numpy', 'dtype').str(dtype).int(0).int(1).op(0x87, 0x52).put();
    this.op(0x28).int(3).str(order).op(0x4e, 0x4e, 0x4e).int(-1).int(-1).int(0).op(0x74, 0x62);
    this.op(0x89).str(data).op(0x74, 0x62);
    return this;
  }
  intList(v: number[]): this { this.op(0x5d).put().op(0x28); for (const x of v) this.int(x); return this.op(0x65); }
  strList(v: string[]): this { this.op(0x5d).put().op(0x28); for (const x of v) this.str(x); return this.op(0x65); }
  done(): Buffer { return Buffer.concat([...this.parts, Buffer.from('.', 'latin1')]); }
}

/** Planar pixel bytes of n images; byte (r, ch, p) = (seed + r·13 + ch·50 + p) mod 256. */
export function planar(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n * 3072);
  for (let r = 0; r < n; r++) for (let ch = 0; ch < 3; ch++) for (let p = 0; p < 1024; p++) b[r * 3072 + ch * 1024 + p] = (seed + r * 13 + ch * 50 + p) % 256;
  return b;
}

type Entry = [string, (w: PickleWriter) => void];

function dict(entries: Entry[]): Buffer {
  const w = new PickleWriter();
  w.op(0x7d).put().op(0x28);
  for (const [k, v] of entries) { w.str(k); v(w); }
  return w.op(0x75).done();
}

/** A cifar-10-batches-py batch: {data, labels, batch_label, filenames}. */
export function cifar10Pickle(labels: number[], seed: number): Buffer {
  return dict([
    ['data', (w) => w.ndarray([labels.length, 3072], planar(labels.length, seed))],
    ['labels', (w) => w.intList(labels)],
    ['batch_label', (w) => w.str('training batch 1 of 5')],
    ['filenames', (w) => w.strList(labels.map((_, i) => `img_${seed}_${i}.png`))],
  ]);
}

/** A cifar-100-python split: {data, fine_labels, coarse_labels, filenames, batch_label}. */
export function cifar100Pickle(fine: number[], coarse: number[], seed: number): Buffer {
  return dict([
    ['filenames', (w) => w.strList(fine.map((_, i) => `f${i}.png`))],
    ['batch_label', (w) => w.str('training batch 1 of 1')],
    ['fine_labels', (w) => w.intList(fine)],
    ['coarse_labels', (w) => w.intList(coarse)],
    ['data', (w) => w.ndarray([fine.length, 3072], planar(fine.length, seed))],
  ]);
}

export function metaPickle(key: string, names: string[], key2?: string, names2?: string[]): Buffer {
  const e: Entry[] = [[key, (w) => w.strList(names)]];
  if (key2 && names2) e.push([key2, (w) => w.strList(names2)]);
  e.push(['num_vis', (w) => w.int(3072)]);
  return dict(e);
}

/** A ustar archive of the given members (and a folder entry for each top folder), gzipped when asked. */
export function tarArchive(members: [string, Buffer][], gzip = true): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, type: string): Buffer => {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(size.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(type, 156);
    h.write('ustar\0', 257); h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    return h;
  };
  const dirs = new Set(members.map(([n]) => n.split('/')[0]));
  for (const d of dirs) blocks.push(header(`${d}/`, 0, '5'));
  for (const [name, body] of members) {
    blocks.push(header(name, body.length, '0'), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return gzip ? gzipSync(tar) : tar;
}
