// Lays out a new sweep folder before anything runs: one config file per point (the resolved
// config, so each run is reproducible from its own file), the run folder each point will write,
// and sweep.json. All of it is checked first: a bad grid value creates nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../../shared/config';
import { writeFileAtomic } from '../run/atomic';
import { UsageError } from '../util/flags';
import { expandGrid, type GridSpec, type SweepPoint } from './grid';
import { SWEEP_MANIFEST, writeManifest, type SlurmSettings, type SweepExecutorKind, type SweepManifest } from './manifest';

export interface CreateSweepInput {
  dir: string;
  name: string;
  base: RunConfig;
  baseFile?: string;
  grid: GridSpec;
  executor: SweepExecutorKind;
  parallel?: number;
  slurm?: SlurmSettings;
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
    points: points.map((p) => ({
      index: p.index, name: p.name, group: p.group, seed: p.seed, ...(p.variant ? { variant: p.variant } : {}), overrides: p.overrides,
      runDir: `runs/${p.name}`, config: `configs/${p.name}.advprop.json`,
    })),
  };
  for (const p of points) {
    const config = { ...p.config, name: p.name };
    writeFileAtomic(path.join(dir, 'configs', `${p.name}.advprop.json`), JSON.stringify(config, null, 2) + '\n', { fsync: false });
  }
  writeManifest(dir, m);
  return m;
}
