// The bench's peer: the same ResNet-20 training step in PyTorch eager on this machine, in the same
// bench run, so every CPU row gets an ours/PyTorch ratio measured minutes apart rather than on
// different days (media/peer/torch_resnet20.py; PyTorch comes from the user's python3, e.g.
// Debian's python3-torch; nothing is installed or downloaded for it).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PEER_SCRIPT = path.join('media', 'peer', 'torch_resnet20.py');

export interface PeerRow {
  /** The bench row it is the peer of (wasm-1, wasm-2, …) and that row's images/s. */
  key: string;
  ours: number;
  threads: number;
  batch: number;
  nchw: number;
  channelsLast: number;
  /** ours / PyTorch's faster format (the ratio a user switching engines would see). */
  ratio: number;
}

export type PeerReport = { python: string; torch: string; script: string; rows: PeerRow[]; failed: { key: string; reason: string }[] } | { skipped: string };

/** media/peer/torch_resnet20.py next to the bundle (dist/ → ../media) or up from out/src/engine/bench. */
export function findPeerScript(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, PEER_SCRIPT);
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

function lastLine(s: string | undefined): string {
  return (s ?? '').split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
}

/** Which torch `python` imports, or why none (one line). */
export function peerTorchVersion(python: string): { version: string } | { skipped: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { skipped: code === 'ENOENT' ? `no ${python} on PATH: pass --peer-python PATH to compare with PyTorch` : `${python}: ${r.error.message}` };
  }
  if (r.status !== 0) return { skipped: `${python} cannot import torch (${lastLine(r.stderr) || `exit ${r.status}`}); install PyTorch (Debian: apt-get install python3-torch) or pass --peer-python PATH` };
  return { version: lastLine(r.stdout) };
}

/** python3 on PATH first; then the system one, where Debian's python3-torch lands when PATH has another (pyenv). */
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3'];

export interface PeerOptions {
  /** One interpreter, or candidates tried in order (the first that imports torch is used). */
  python: string | readonly string[];
  seconds: number;
  warmup: number;
  script?: string;
}

/** Times the peer for each CPU row (its worker count as PyTorch's thread count, its batch). */
export function runPeer(rows: readonly { key: string; workers: number; batch: number; imagesPerSecond: number }[], opts: PeerOptions, say: (s: string) => void = () => undefined): PeerReport {
  const script = opts.script ?? findPeerScript();
  if (!script) return { skipped: `the peer script ${PEER_SCRIPT} is missing next to the engine; reinstall` };
  const candidates = typeof opts.python === 'string' ? [opts.python] : [...new Set(opts.python)];
  let python = candidates[0];
  let torch: { version: string } | { skipped: string } = { skipped: 'no python3 to try' };
  for (const c of candidates) {
    torch = peerTorchVersion(c);
    python = c;
    if ('version' in torch) break;
  }
  if ('skipped' in torch) return candidates.length > 1 ? { skipped: `no PyTorch in ${candidates.join(' or ')}: ${torch.skipped}` } : torch;
  const out: PeerRow[] = [];
  const failed: { key: string; reason: string }[] = [];
  for (const row of rows) {
    const args = [script, '--threads', String(row.workers), '--batch', String(row.batch), '--seconds', String(opts.seconds), '--warmup', String(opts.warmup), '--device', 'cpu'];
    const r = spawnSync(python, args, { encoding: 'utf8', timeout: (2 * (opts.seconds + opts.warmup) + 120) * 1000 });
    const got: Record<string, number> = {};
    for (const line of (r.stdout ?? '').split('\n')) {
      try {
        const j = JSON.parse(line) as { format?: string; imagesPerSecond?: number };
        if (typeof j.format === 'string' && typeof j.imagesPerSecond === 'number' && j.imagesPerSecond > 0) got[j.format] = j.imagesPerSecond;
      } catch {
        /* not a result line */
      }
    }
    if (!(got.nchw > 0) || !(got.channels_last > 0)) {
      failed.push({ key: row.key, reason: r.error ? r.error.message : lastLine(r.stderr) || `exit ${r.status}, no result lines` });
      say(`  peer ${row.key}: failed (${failed[failed.length - 1].reason})`);
      continue;
    }
    const best = Math.max(got.nchw, got.channels_last);
    const p: PeerRow = { key: row.key, ours: row.imagesPerSecond, threads: row.workers, batch: row.batch, nchw: got.nchw, channelsLast: got.channels_last, ratio: row.imagesPerSecond / best };
    out.push(p);
    say(`  peer ${row.key}: PyTorch ${torch.version} ${p.threads} thread${p.threads > 1 ? 's' : ''} ${p.channelsLast.toFixed(1)} images/s channels-last, ${p.nchw.toFixed(1)} NCHW → ours/PyTorch ${p.ratio.toFixed(2)}`);
  }
  return { python, torch: torch.version, script, rows: out, failed };
}
