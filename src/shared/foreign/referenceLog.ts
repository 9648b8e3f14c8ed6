// The reference's log.txt (bearpaw's Logger): a tab-separated header, then one row per epoch of
// numbers written "%.6f" with a trailing tab. Accuracies are percent there, fractions here.

import { epochEntry, type ForeignEpoch, type ForeignRun } from './foreignRun';

export const REFERENCE_LOG_HEADER = ['Learning Rate', 'Train Loss', 'Valid Loss', 'Train Acc.', 'Valid Acc.'] as const;

type Put = (e: ForeignEpoch, v: number) => void;
const COLUMNS: Readonly<Record<string, Put>> = {
  'Learning Rate': (e, v) => void (e.lr = v),
  'Train Loss': (e, v) => void ((e.clean ??= {}).loss = v),
  'Train Acc.': (e, v) => void ((e.clean ??= {}).acc = v / 100),
  'Valid Loss': (e, v) => void ((e.test ??= {}).loss = v),
  'Valid Acc.': (e, v) => void ((e.test ??= {}).acc = v / 100),
};

function cells(line: string): string[] {
  // The Logger ends every field, the last one too, with a tab.
  return line.replace(/\r$/, '').replace(/\t$/, '').split('\t').map((c) => c.trim());
}

/**
 * Folds log.txt into `run`: row i is epoch i. A torn last row (no newline yet: the run is writing
 * it) is left for the next read. Throws one line naming the file when the header is not the
 * Logger's; a bad row elsewhere is skipped with a warning.
 */
export function readReferenceLog(file: string, text: string, run: ForeignRun): void {
  const lines = text.split('\n');
  // The last piece is either empty (text ends with a newline) or a row still being written.
  lines.pop();
  const header = lines.length ? cells(lines[0]) : [];
  if (!REFERENCE_LOG_HEADER.every((h) => header.includes(h))) {
    throw new Error(`${file}: not the reference's log.txt (its header must name ${REFERENCE_LOG_HEADER.join(', ')}; found "${header.join(', ')}")`);
  }
  const byEpoch = new Map(run.epochs.map((e) => [e.epoch, e]));
  let epoch = 0;
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const row = cells(lines[i]);
    const values = row.map(Number);
    if (row.length !== header.length || values.some((v, k) => Number.isNaN(v) && row[k].toLowerCase() !== 'nan')) {
      run.warnings.push(`${file}: line ${i + 1} skipped (expected ${header.length} numbers, got "${row.join(' ')}")`);
      continue;
    }
    const e = epochEntry(run.epochs, byEpoch, epoch);
    header.forEach((h, k) => {
      if (!Number.isFinite(values[k])) return;
      const put = COLUMNS[h];
      if (put) put(e, values[k]);
      else (run.extra[`log.txt/${h}`] ??= []).push({ step: epoch, value: values[k] });
    });
    epoch++;
  }
}
