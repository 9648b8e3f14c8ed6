// Which trainer wrote a folder, told from its file names alone: detection must be cheap enough to
// run over every folder of a watched tree, and reads nothing (let alone writes).

import type { ForeignOrigin } from './foreignRun';

export const EVENT_FILE = /^events\.out\.tfevents\./;
/** What imagenet.py --evaluate_imagenet_c names its log, beside the checkpoint it loaded. */
export const IMAGENET_C_LOG = 'eval_imagenet_c.txt';

export interface ForeignFolder {
  origin: ForeignOrigin;
  /** Event files in the order they were written (their names start with the creation time). */
  eventFiles: string[];
  referenceLog?: string;
  timmSummary?: string;
  timmArgs?: string;
  /** Text files that may hold an ImageNet-C log; only their content can tell. */
  logCandidates: string[];
}

/** Orders event files by the Unix time in their names (events.out.tfevents.<time>.<host>…). */
function byWriteTime(a: string, b: string): number {
  const t = (n: string): number => Number(/^events\.out\.tfevents\.(\d+)/.exec(n)?.[1] ?? 0);
  return t(a) - t(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The kind of foreign run a folder holds, or undefined when it holds none (or is one of ours: a
 * folder with our config.json and metrics.jsonl is read by our own reader, never as foreign).
 */
export function detectForeignRun(names: readonly string[]): ForeignFolder | undefined {
  const has = new Set(names);
  if (has.has('config.json') && has.has('metrics.jsonl')) return undefined;
  const eventFiles = names.filter((n) => EVENT_FILE.test(n)).sort(byWriteTime);
  const logCandidates = names.filter((n) => n !== 'log.txt' && /\.(log|txt|out)$/i.test(n)).sort((a, b) => Number(b === IMAGENET_C_LOG) - Number(a === IMAGENET_C_LOG) || (a < b ? -1 : a > b ? 1 : 0));
  let origin: ForeignOrigin | undefined;
  // The reference's Logger and its checkpoints are its signature; an event file alone could be any writer's.
  if (has.has('log.txt') && (eventFiles.length || has.has('checkpoint.pth.tar') || has.has('model_best.pth.tar'))) origin = 'PyTorch reference';
  else if (has.has('summary.csv') && (has.has('args.yaml') || !eventFiles.length)) origin = 'timm';
  else if (eventFiles.length) origin = 'TensorBoard';
  else if (has.has('log.txt') || has.has(IMAGENET_C_LOG)) origin = 'PyTorch reference';
  if (!origin) return undefined;
  const out: ForeignFolder = { origin, eventFiles, logCandidates };
  if (has.has('log.txt')) out.referenceLog = 'log.txt';
  if (has.has('summary.csv')) out.timmSummary = 'summary.csv';
  if (has.has('args.yaml')) out.timmArgs = 'args.yaml';
  return out;
}
