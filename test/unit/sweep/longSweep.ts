// A local sweep of 3 seeds whose runs train for minutes, started through the built CLI and
// returned once its first point has logged step 2: the state the cancel tests (sweep cancel,
// Ctrl-C) start from.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readManifest, type SweepManifest } from '../../../src/engine/sweep/manifest';
import { TINY_CONFIG, readText, startCli, stepNumbers, waitFor, writeJson } from '../reliability/helpers';

export interface LongSweep {
  child: ChildProcess;
  out: string;
  manifest: SweepManifest;
  /** The first point's run folder, training. */
  first: string;
  /** Everything the sweep printed so far (stdout and stderr). */
  text(): string;
}

export async function startLongSweep(tmp: string, name: string): Promise<LongSweep> {
  const cfg = writeJson(path.join(tmp, 'long.advprop.json'), { ...TINY_CONFIG, epochs: 40, milestones: [20] });
  const out = path.join(tmp, name);
  const child = startCli(['sweep', '--config', cfg, '--seeds', '3', '--out', out], { cwd: tmp });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  await waitFor(() => fs.existsSync(path.join(out, 'sweep.json')), 'the manifest', 30000);
  const manifest = readManifest(out);
  const first = path.join(out, manifest.points[0].runDir);
  await waitFor(() => fs.existsSync(path.join(first, 'metrics.jsonl')) && stepNumbers(readText(path.join(first, 'metrics.jsonl'))).some((s) => s >= 2), 'step 2', 60000);
  return { child, out, manifest, first, text: () => text };
}
