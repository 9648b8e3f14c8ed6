// Lays out a new sweep folder before anything runs: one config file per point (the resolved
// config, so each run is reproducible from its own file), the run folder each point will write,
// and sweep.json. All of it is checked first: a bad grid value creates nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../../shared/config';
import { writeFileAtomic } from '../run/atomic';
import { shellQuote } from '../../shared/shellQuote';
import { UsageError } from '../util/flags';
import { commandFor, expandGrid, type GridSpec, type SweepPoint } from './grid';
import { SWEEP_MANIFEST, writeManifest, type SlurmSettings, type SweepEvaluate, type SweepExecutorKind, type SweepManifest } from './manifest';

export interface CreateSweepInput {
  dir: string;
  name: string;
  base: RunConfig;
  baseFile?: string;
  grid: GridSpec;
  executor: SweepExecutorKind;
  parallel?: number;
  slurm?: SlurmSettings;
  /** Slurm only: each point's job evaluates its run after training (the study's robustness). */
  evaluate?: SweepEvaluate;
}

export function planSweep(input: CreateSweepInput): SweepPoint[] {
  return expandGrid(input.grid, input.base);
}

export function createSweep(input: CreateSweepInput, points: SweepPoint[] = planSweep(input)): SweepManifest {
  const dir = input.dir;
  if (fs.existsSync(path.join(dir, SWEEP_MANIFEST))) throw new UsageError('--out', `${dir} already holds a sweep; choose another --out or continue it with fast-advprop sweep status ${dir}`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new UsageError('--out', `${dir} exists and is not empty; give a new folder`);
  fs.mkdirSync(path.join(dir, 'configs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
  const m: SweepManifest = {
    schema: 1,
    kind: 'fast-advprop-sweep',
    name: input.name,
    createdAt: new Date().toISOString(),
    ...(input.baseFile ? { base: input.baseFile } : {}),
    executor: input.executor,
    ...(input.executor === 'local' ? { parallel: input.parallel ?? 1 } : {}),
    ...(input.executor === 'slurm' && input.slurm ? { slurm: input.slurm } : {}),
    ...(input.executor === 'slurm' && input.evaluate ? { evaluate: input.evaluate } : {}),
    ...(input.grid.command !== undefined ? { command: input.grid.command, cwd: process.cwd() } : {}),
    points: points.map((p) => ({
      index: p.index, name: p.name, group: p.group, seed: p.seed, ...(p.variant ? { variant: p.variant } : {}), overrides: p.overrides,
      runDir: `runs/${p.name}`,
      ...(input.grid.command !== undefined
        ? { config: `configs/${p.name}.command.sh`, command: commandFor(input.grid.command, p, path.join(path.resolve(dir), 'runs', p.name)) }
        : { config: `configs/${p.name}.advprop.json` }),
    })),
  };
  for (const p of m.points) {
    if (p.command !== undefined) {
      // The point's whole command, runnable by hand too; it runs in the folder the sweep was started from.
      writeFileAtomic(path.join(dir, p.config), `#!/bin/sh\n# point ${p.index} of sweep ${m.name}\ncd ${shellQuote(m.cwd!)} || exit 1\nexec ${p.command}\n`, { fsync: false });
      continue;
    }
    const config = { ...points[p.index].config, name: p.name };
    writeFileAtomic(path.join(dir, p.config), JSON.stringify(config, null, 2) + '\n', { fsync: false });
  }
  writeManifest(dir, m);
  return m;
}
