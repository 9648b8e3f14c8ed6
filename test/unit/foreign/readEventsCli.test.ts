// `fast-advprop read-events`: the counts it prints are the fixture's, a corrupt or cut file says
// where the read stopped, and bad usage is one line with exit code 2.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/engine/cli';

const FIXTURES = path.join(__dirname, '../../../../test/fixtures/foreign');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')).runs as Record<string, Record<string, [number, number][]>>;

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function eventFile(run: string): string {
  const dir = path.join(FIXTURES, run);
  return path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith('events.out'))!);
}

describe('fast-advprop read-events', () => {
  it('counts the records, scalars, tags and steps the writer wrote', async () => {
    const file = eventFile('tensorboard-run');
    const r = await run(['read-events', '--json', file]);
    assert.equal(r.code, 0);
    const rep = JSON.parse(r.out[0]);
    const exp = EXPECTED['tensorboard-run'];
    assert.equal(rep.bytes, fs.statSync(file).size);
    assert.equal(rep.scalars, Object.values(exp).reduce((n, v) => n + v.length, 0));
    assert.equal(rep.tags, Object.keys(exp).length);
    assert.deepEqual(rep.steps, [0, 7]);
    assert.equal(rep.error, undefined);
    const line = (await run(['read-events', file])).out[0];
    assert.match(line, /: 0\.0 MB, 25 records, 72 scalars \(9 tags, steps 0–7\) read in \d+\.\d\d s/);
  });

  it('a flipped bit and a cut end each say where the read stopped; the records before count', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-events-'));
    try {
      const bytes = fs.readFileSync(eventFile('reference-run'));
      const bad = path.join(dir, 'events.out.tfevents.1.bad');
      const flipped = Buffer.from(bytes);
      flipped[flipped.length >> 1] ^= 4;
      fs.writeFileSync(bad, flipped);
      const cut = path.join(dir, 'events.out.tfevents.2.cut');
      fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
      const r = await run(['read-events', '--json', bad, cut]);
      assert.equal(r.code, 0);
      const [a, b] = r.out.map((l) => JSON.parse(l));
      assert.match(a.error, /corrupt record at byte \d+ \((data|length) CRC mismatch\); read stops there/);
      assert.ok(a.records > 0 && a.records < 73);
      assert.match(b.error, /the last \d+ bytes are an unfinished record/);
      assert.equal(b.records, 72);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no file, a missing file: one line each', async () => {
    const none = await run(['read-events']);
    assert.equal(none.code, 2);
    assert.deepEqual(none.err, ['error: read-events: name at least one event file (events.out.tfevents.*)']);
    const missing = await run(['read-events', '/nonexistent/events.out.tfevents.1']);
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.err, ['error: /nonexistent/events.out.tfevents.1: no such file']);
  });
});
