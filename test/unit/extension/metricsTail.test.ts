import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsTail } from '../../../src/extension/metricsTail';

const rec = (step: number, extra = '') => `{"v":1,"kind":"step","step":${step}${extra}}`;

describe('metrics.jsonl tailing', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-tail-'));
    file = path.join(dir, 'metrics.jsonl');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads nothing from a missing file', () => {
    const t = new MetricsTail(file);
    assert.equal(t.read(), 0);
  });

  it('reads only appended lines and keeps a torn last line until it is complete', () => {
    const t = new MetricsTail(file);
    fs.writeFileSync(file, `${rec(1)}\n${rec(2)}\n{"v":1,"kind":"st`);
    assert.equal(t.read(), 2);
    assert.deepEqual(t.records.map((r) => (r as { step: number }).step), [1, 2]);
    assert.equal(t.read(), 0, 'nothing new: the torn line must not be parsed or counted');
    assert.equal(t.skipped, 0);
    fs.appendFileSync(file, `ep","step":3}\n${rec(4)}\n`);
    assert.equal(t.read(), 2);
    assert.deepEqual(t.records.map((r) => (r as { step: number }).step), [1, 2, 3, 4]);
  });

  it('does not split a multi-byte character cut at the end of a read', () => {
    const t = new MetricsTail(file);
    const line = rec(1, ',"event":"β → ok"');
    const bytes = Buffer.from(line + '\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('β', 'utf8')) + 1; // inside the 2-byte β
    fs.writeFileSync(file, bytes.subarray(0, cut));
    assert.equal(t.read(), 0);
    fs.appendFileSync(file, bytes.subarray(cut));
    assert.equal(t.read(), 1);
    assert.equal((t.records[0] as unknown as { event: string }).event, 'β → ok');
  });

  it('recovers the good record glued to a torn line after a resume, and counts real garbage', () => {
    const t = new MetricsTail(file);
    fs.writeFileSync(file, `${rec(1)}\n{"v":1,"kind":"step","st${rec(2)}\nnot json\n`);
    assert.equal(t.read(), 2);
    assert.deepEqual(t.records.map((r) => (r as { step: number }).step), [1, 2]);
    assert.equal(t.skipped, 1);
  });

  it('starts over when the file is truncated or replaced', () => {
    const t = new MetricsTail(file);
    fs.writeFileSync(file, `${rec(1)}\n${rec(2)}\n`);
    assert.equal(t.read(), 2);
    fs.writeFileSync(file, `${rec(7)}\n`);
    t.read();
    assert.deepEqual(t.records.map((r) => (r as { step: number }).step), [7]);
  });
});
