import { READ_LIMITS, FileReadError, readBounded } from '../util/boundedRead';
import { writeFileAtomic } from './atomic';

// A resume continues from the checkpoint's step, so the records a killed session wrote after that
// step would otherwise appear twice (and steps would go backwards). Cutting them before the resume
// appends keeps metrics.jsonl exactly-once per step. The cut is a whole-file replace (temp +
// rename): a kill during it leaves either the old file or the new one, and the next resume cuts
// again.

function stepOf(line: string): number | undefined {
  try {
    const r = JSON.parse(line) as { step?: unknown };
    return typeof r === 'object' && r !== null && typeof r.step === 'number' ? r.step : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Drops every record of `file` whose step is after `step`, and a torn last line. Lines that are
 * not records are kept (readers report them). Returns how many lines were dropped; the file is
 * rewritten only when there is something to drop. A missing file is nothing to cut.
 */
export function cutMetricsAfter(file: string, step: number): number {
  let text: string;
  try {
    text = readBounded(file, READ_LIMITS.metrics, 'metrics.jsonl').toString('utf8');
  } catch (e) {
    if (e instanceof FileReadError && e.code === 'ENOENT') return 0;
    throw e;
  }
  const lines = text.split('\n');
  // The piece after the last newline is a torn write (or nothing).
  const torn = lines.pop() ?? '';
  const kept = lines.filter((l) => {
    const s = stepOf(l);
    return s === undefined || s <= step;
  });
  const dropped = lines.length - kept.length + (torn ? 1 : 0);
  if (dropped > 0) writeFileAtomic(file, kept.map((l) => `${l}\n`).join(''));
  return dropped;
}
