// The bench's PyTorch peer, without PyTorch: a stand-in python3 (a shell script) answers the
// import probe and prints result lines as media/peer/torch_resnet20.py does, so the wiring, the
// ratios and the one-line refusals are checked here; the real script runs in `npm run bench`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findPeerScript, peerTorchVersion, runPeer } from '../../../src/engine/bench/peer';

function fakePython(dir: string, body: string): string {
  const p = path.join(dir, 'python3');
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

describe('bench: PyTorch peer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-peer-'));

  it('ships its script where the engine finds it', () => {
    const s = findPeerScript();
    assert.ok(s && fs.readFileSync(s, 'utf8').includes('channels_last'), String(s));
  });

  it('times each wasm row with the row\'s workers as threads and batch, and divides ours by PyTorch\'s faster format', () => {
    // Reports 100·threads NCHW and 150·threads channels-last, and echoes the arguments it got.
    const py = fakePython(dir, `
if [ "$1" = "-c" ]; then echo 9.9.9; exit 0; fi
t=$3; b=$5
echo "args $*" >&2
echo "{\\"format\\": \\"nchw\\", \\"imagesPerSecond\\": $((100 * t)), \\"threads\\": $t, \\"batch\\": $b}"
echo "{\\"format\\": \\"channels_last\\", \\"imagesPerSecond\\": $((150 * t)), \\"threads\\": $t, \\"batch\\": $b}"`);
    const lines: string[] = [];
    const r = runPeer([{ key: 'wasm-1', workers: 1, batch: 64, imagesPerSecond: 120 }, { key: 'wasm-2', workers: 2, batch: 64, imagesPerSecond: 210 }], { python: py, seconds: 1, warmup: 0 }, (s) => lines.push(s));
    assert.ok('rows' in r, JSON.stringify(r));
    assert.equal(r.torch, '9.9.9');
    assert.deepEqual(r.rows.map((x) => [x.key, x.threads, x.batch, x.nchw, x.channelsLast]), [['wasm-1', 1, 64, 100, 150], ['wasm-2', 2, 64, 200, 300]]);
    assert.deepEqual(r.rows.map((x) => x.ratio), [120 / 150, 210 / 300]);
    assert.match(lines[1], /peer wasm-2: PyTorch 9\.9\.9 2 threads 300\.0 images\/s channels-last, 200\.0 NCHW → ours\/PyTorch 0\.70/);
  });

  it('a python without torch, a missing python and a crashing script each say why in one line', () => {
    const noTorch = fakePython(dir, 'echo "ModuleNotFoundError: No module named \'torch\'" >&2; exit 1');
    const a = peerTorchVersion(noTorch);
    assert.ok('skipped' in a && /cannot import torch \(ModuleNotFoundError: No module named 'torch'\); install PyTorch/.test(a.skipped), JSON.stringify(a));
    const b = runPeer([], { python: path.join(dir, 'no-such-python'), seconds: 1, warmup: 0 });
    assert.ok('skipped' in b && /no .*no-such-python on PATH: pass --peer-python/.test(b.skipped), JSON.stringify(b));
    const crash = fakePython(path.join(dir), 'if [ "$1" = "-c" ]; then echo 2.0; exit 0; fi\necho "RuntimeError: out of memory" >&2; exit 1');
    const c = runPeer([{ key: 'wasm-1', workers: 1, batch: 64, imagesPerSecond: 100 }], { python: crash, seconds: 1, warmup: 0 });
    assert.ok('failed' in c && c.failed[0].reason === 'RuntimeError: out of memory' && c.rows.length === 0, JSON.stringify(c));
    for (const s of ['skipped' in a ? a.skipped : '', 'skipped' in b ? b.skipped : '']) assert.ok(!s.includes('\n'));
  });
});
