// A sweep's points: the cartesian product of dotted config overrides ("attack.steps": [1, 5]),
// optional named variants (each a set of overrides, e.g. Table 1's methods) and seeds. Every point
// is resolved against the base config by the one validator `train` uses, so a bad value fails the
// whole sweep before anything is created, naming the grid key that produced it.

import { ConfigError, resolveConfig, stripJsonComments, type RunConfig } from '../../shared/config';
import { shellQuote } from '../../shared/shellQuote';
import { UsageError } from '../util/flags';

/** Hard cap on points: a typo like --seeds 100000 must not create a hundred thousand folders. */
export const MAX_POINTS = 10_000;

export interface GridSpec {
  /** Dotted config key → the values it takes, in order. */
  axes: [string, unknown[]][];
  /** Named override sets, one axis of its own (outermost). Empty = none. */
  variants: [string, Record<string, unknown>][];
  /** Seeds per point; each point trains seeds base.seed … base.seed + seeds - 1. 0 = the config's own seed only, not an axis. */
  seeds: number;
  /**
   * Run this shell command per point instead of our engine (e.g. the authors'
   * `python imagenet.py --lr {lr} --seed {seed} --checkpoint {runDir}`); `{key}` takes the point's
   * value, shell-quoted. The keys are then free: our config schema does not apply to them.
   */
  command?: string;
}

export interface SweepPoint {
  index: number;
  /** Folder-safe, unique: `03-split-8-1-seed-0`. */
  name: string;
  variant?: string;
  /** Dotted key → value, everything this point changes (variant keys flattened in, and seed). */
  overrides: Record<string, unknown>;
  /** The point without its seed: the group mean ± std is taken over. */
  group: string;
  seed: number;
  config: RunConfig;
  /** Command sweeps: the command as it runs for this point in a run folder named `{runDir}` (checked when planned, filled again with the real folder when created). */
  command?: string;
}

/** A point's command: the template filled with its values, its seed, index, name and run folder. */
export function commandFor(template: string, p: Pick<SweepPoint, 'index' | 'name' | 'overrides' | 'seed'>, runDir: string): string {
  return fillCommand(template, { ...p.overrides, seed: p.seed, index: p.index, name: p.name, runDir });
}

const DOTTED_KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/;

/** `--set key=v1,v2`: each value is JSON when it parses (numbers, true, "quoted"), else a string. */
export function parseSetFlag(text: string): [string, unknown[]] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError('--set', `expected key=v1,v2 (e.g. --set split=8:1,4:1), got ${JSON.stringify(text)}`);
  const key = text.slice(0, eq).trim();
  if (!DOTTED_KEY.test(key)) throw new UsageError('--set', `"${key}" is not a config key; use a dotted key such as attack.steps or split`);
  const raw = text.slice(eq + 1);
  if (raw.trim() === '') throw new UsageError('--set', `${key} has no values; e.g. --set ${key}=1,2`);
  return [key, raw.split(',').map((v) => parseValue(v.trim()))];
}

function parseValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A grid file: `{"axes": {"split": ["8:1", "4:1"]}, "variants": {"vanilla": {"method": "vanilla"}},
 * "seeds": 3}`; every part optional, comments allowed as in run configs.
 */
export function parseGridText(text: string, source: string): GridSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(stripJsonComments(text));
  } catch (e) {
    throw new UsageError('--grid', `${source} is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(raw)) throw new UsageError('--grid', `${source} must hold a JSON object with "axes", "variants" and/or "seeds"`);
  for (const k of Object.keys(raw)) {
    if (!['$comment', 'axes', 'variants', 'seeds', 'command'].includes(k)) throw new UsageError(`--grid ${k}`, `unknown key in ${source}; valid keys are axes, variants, seeds, command`);
  }
  const axes: [string, unknown[]][] = [];
  if (raw.axes !== undefined) {
    if (!isObject(raw.axes)) throw new UsageError('--grid axes', 'must be an object of "dotted.key": [values]');
    for (const [k, vs] of Object.entries(raw.axes)) {
      if (!DOTTED_KEY.test(k)) throw new UsageError(`--grid axes.${k}`, 'is not a config key; use a dotted key such as attack.steps');
      if (!Array.isArray(vs) || vs.length === 0) throw new UsageError(`--grid axes.${k}`, 'must be a non-empty list of values');
      axes.push([k, vs]);
    }
  }
  const variants: [string, Record<string, unknown>][] = [];
  if (raw.variants !== undefined) {
    if (!isObject(raw.variants)) throw new UsageError('--grid variants', 'must be an object of name: {overrides}');
    for (const [name, o] of Object.entries(raw.variants)) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(name)) throw new UsageError(`--grid variants.${name.slice(0, 40)}`, 'names are 1-40 letters, digits, ".", "_" or "-"');
      if (!isObject(o)) throw new UsageError(`--grid variants.${name}`, 'must be an object of config overrides');
      variants.push([name, o]);
    }
  }
  const seeds = raw.seeds === undefined ? 0 : raw.seeds;
  if (typeof seeds !== 'number' || !Number.isInteger(seeds) || seeds < 0 || seeds > 1000) throw new UsageError('--grid seeds', 'must be a whole number from 0 to 1000');
  if (raw.command !== undefined) checkCommand(raw.command, '--grid command');
  return { axes, variants, seeds, ...(raw.command !== undefined ? { command: raw.command as string } : {}) };
}

export function checkCommand(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 4000 || /[\r\n\0]/.test(v)) throw new UsageError(field, 'must be one line of shell, e.g. "python imagenet.py --lr {lr} --checkpoint {runDir}"');
  if (!v.includes('{runDir}')) throw new UsageError(field, 'must write into {runDir} (the point\'s run folder), e.g. --checkpoint {runDir}');
  return v;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9.]*)\}/g;

/** Fills `{key}` with shell-quoted values; an unknown key is an error naming it and the known ones. */
export function fillCommand(template: string, values: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    if (!(key in values)) throw new UsageError('--grid command', `unknown placeholder {${key}}; this point has ${Object.keys(values).map((k) => `{${k}}`).join(', ')}`);
    const v = values[key];
    return shellQuote(typeof v === 'string' ? v : JSON.stringify(v));
  });
}

/** Sets `a.b` in a nested override object (a config section is at most one level deep). */
function setDotted(target: Record<string, unknown>, key: string, value: unknown): void {
  const [head, tail] = key.split('.');
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const sec = isObject(target[head]) ? (target[head] as Record<string, unknown>) : {};
  target[head] = { ...sec, [tail]: value };
}

export function flattenOverrides(o: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (isObject(v) && !prefix) Object.assign(out, flattenOverrides(v, `${k}.`));
    else out[prefix + k] = v;
  }
  return out;
}

function slug(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'x';
}

/**
 * Every point, outermost axis first: variants, then the axes in the order given, then seeds. The
 * base config's name is dropped: each run folder is named by the sweep.
 */
export function expandGrid(spec: GridSpec, base: RunConfig): SweepPoint[] {
  const seedValues = spec.seeds > 0 ? Array.from({ length: spec.seeds }, (_, i) => base.seed + i) : [undefined];
  const variants: ([string, Record<string, unknown>] | undefined)[] = spec.variants.length ? spec.variants : [undefined];
  let total = variants.length * seedValues.length;
  for (const [, vs] of spec.axes) total *= vs.length;
  if (total > MAX_POINTS) throw new UsageError('--grid', `${total} points is more than ${MAX_POINTS}; split the sweep`);
  if (spec.axes.length === 0 && spec.variants.length === 0 && spec.seeds === 0) throw new UsageError('--grid', 'the grid is empty: give --set key=v1,v2, a --grid file with axes or variants, or --seeds N');

  const combos: [string, unknown][][] = [[]];
  for (const [key, values] of spec.axes) {
    const next: [string, unknown][][] = [];
    for (const c of combos) for (const v of values) next.push([...c, [key, v]]);
    combos.splice(0, combos.length, ...next);
  }
  const { name: _name, ...unnamed } = base;
  const width = String(total - 1).length;
  const points: SweepPoint[] = [];
  for (const variant of variants) {
    for (const combo of combos) {
      for (const seed of seedValues) {
        const nested: Record<string, unknown> = variant ? structuredClone(variant[1]) : {};
        for (const [k, v] of combo) setDotted(nested, k, v);
        if (seed !== undefined) nested.seed = seed;
        let config: RunConfig;
        try {
          // A command sweep's keys belong to that command, not to our config schema.
          config = spec.command !== undefined ? (unnamed as RunConfig) : resolveConfig(nested, unnamed as RunConfig);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          const from = combo.find(([k]) => k === e.field || e.field.startsWith(`${k}.`));
          const where = from ? `${from[0]}=${JSON.stringify(from[1])}` : variant ? `variant ${variant[0]}` : 'the base config';
          throw new ConfigError(e.field, `${e.message.slice(e.field.length + 2)} (from ${where})`);
        }
        const overrides = flattenOverrides(nested);
        const parts = [...(variant ? [variant[0]] : []), ...combo.map(([k, v]) => `${k.split('.').pop()}-${slug(v)}`)];
        const index = points.length;
        const name = [String(index).padStart(width, '0'), ...parts, ...(seed !== undefined ? [`seed-${seed}`] : [])].join('-');
        points.push({
          index,
          name,
          ...(variant ? { variant: variant[0] } : {}),
          overrides,
          group: [...(variant ? [variant[0]] : []), ...combo.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)].join(' ') || 'all',
          seed: seed ?? config.seed,
          config,
          ...(spec.command !== undefined ? { command: commandFor(spec.command, { index, name, overrides, seed: seed ?? config.seed }, '{runDir}') } : {}),
        });
      }
    }
  }
  return points;
}
