// timm's train.py output folder: summary.csv (one row per epoch, written by utils.update_summary:
// epoch, train_loss, eval_loss, eval_top1, eval_top5, lr, and more columns in newer versions) and
// args.yaml (the parsed command line, dumped by yaml.safe_dump). timm's top-1/top-5 are percent.

import { epochEntry, type ForeignEpoch, type ForeignRun, type ForeignRunDescription } from './foreignRun';

type Put = (e: ForeignEpoch, v: number) => void;
const COLUMNS: Readonly<Record<string, Put>> = {
  train_loss: (e, v) => void ((e.clean ??= {}).loss = v),
  eval_loss: (e, v) => void ((e.test ??= {}).loss = v),
  eval_top1: (e, v) => void ((e.test ??= {}).acc = v / 100),
  eval_top5: (e, v) => void ((e.test ??= {}).top5 = v / 100),
  lr: (e, v) => void (e.lr = v),
};

function csvCells(line: string): string[] {
  // csv.DictWriter quotes only fields holding a comma or quote; numbers never do.
  return line.replace(/\r$/, '').split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

/**
 * Folds summary.csv into `run`. Needs an `epoch` column; other known columns map, unknown ones go
 * to `extra` under their column name. A torn last row is left for the next read.
 */
export function readTimmSummary(file: string, text: string, run: ForeignRun): void {
  const lines = text.split('\n');
  lines.pop(); // empty after the last newline, or a row still being written
  const header = lines.length ? csvCells(lines[0]) : [];
  const epochCol = header.indexOf('epoch');
  if (epochCol < 0) throw new Error(`${file}: not timm's summary.csv (no "epoch" column in the header "${header.join(',')}")`);
  const byEpoch = new Map(run.epochs.map((e) => [e.epoch, e]));
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const row = csvCells(lines[i]);
    const epoch = Number(row[epochCol]);
    if (row.length !== header.length || !Number.isInteger(epoch)) {
      run.warnings.push(`${file}: line ${i + 1} skipped (expected ${header.length} fields with an integer epoch)`);
      continue;
    }
    const e = epochEntry(run.epochs, byEpoch, epoch);
    header.forEach((h, k) => {
      if (k === epochCol || row[k] === '') return;
      const v = Number(row[k]);
      if (!Number.isFinite(v)) return;
      const put = COLUMNS[h];
      if (put) put(e, v);
      else (run.extra[h] ??= []).push({ step: epoch, value: v });
    });
  }
}

/**
 * The few keys of args.yaml that describe a run. Only top-level `key: value` lines are read (a
 * safe subset: no tags, anchors or nesting are interpreted); anything else is ignored.
 */
export function readTimmArgs(text: string): ForeignRunDescription {
  const raw: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][\w-]*):[ \t]*(.*?)[ \t]*$/.exec(line.replace(/\r$/, ''));
    if (m) raw[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  const num = (k: string): number | undefined => {
    const v = raw[k] === undefined || raw[k] === '' || raw[k] === 'null' || raw[k] === '~' ? NaN : Number(raw[k]);
    return Number.isFinite(v) ? v : undefined;
  };
  const out: ForeignRunDescription = {};
  if (raw.model && raw.model !== 'null') out.model = raw.model;
  const epochs = num('epochs');
  const batch = num('batch_size');
  const lr = num('lr');
  if (epochs !== undefined) out.epochs = epochs;
  if (batch !== undefined) out.batchSize = batch;
  if (lr !== undefined) out.lr = lr;
  return out;
}
