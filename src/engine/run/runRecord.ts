// A run's config.json read back for `train --resume`/`--restart`, `evaluate` and `export-model`:
// one reader, so a damaged record reads the same whichever command met it. Callers turn the
// RunRecordError into their own flag-named refusal.
import * as path from 'node:path';
import { ConfigError, resolveConfig } from '../../shared/config';
import { RUN_FILES, type RunConfigRecord } from '../../shared/runFormat';
import { FileReadError, READ_LIMITS, folderProblem, readBoundedText } from '../util/boundedRead';

export class RunRecordError extends Error {}

const SHAPE = ['height', 'width', 'channels', 'numClasses'] as const;

/**
 * `use` ends the damaged-record sentence ("the run cannot be <use> without it"). `continuing`
 * also requires what only a resume reads: the image counts, the schedule and the resume history.
 */
export function readRunRecord(runDir: string, use: 'resumed' | 'evaluated', continuing: boolean): RunConfigRecord {
  const cfgFile = path.join(runDir, RUN_FILES.config);
  const bad = folderProblem(runDir);
  if (bad) throw new RunRecordError(`${runDir}: ${bad}; give the run folder (the one holding config.json)`);
  const damaged = (why: string): RunRecordError => new RunRecordError(`${cfgFile} is damaged (${why}); the run cannot be ${use} without it`);
  let text: string;
  try {
    text = readBoundedText(cfgFile, READ_LIMITS.config, "a run's config.json");
  } catch (e) {
    if (e instanceof FileReadError && e.code === 'ENOENT') throw new RunRecordError(`${runDir} is not a run folder (no ${RUN_FILES.config})`);
    throw damaged((e as Error).message.slice(cfgFile.length + 2));
  }
  let record: RunConfigRecord;
  try {
    record = JSON.parse(text) as RunConfigRecord;
  } catch (e) {
    throw damaged((e as Error).message.replace(/\s+/g, ' ').slice(0, 120));
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw damaged(`it holds ${record === null ? 'null' : typeof record}, not a run record`);
  if (record.config === null || typeof record.config !== 'object') throw damaged('no "config" object');
  const d = record.dataset as Partial<RunConfigRecord['dataset']> | undefined;
  const counts = continuing ? ['train', 'test'] as const : [];
  if (!d || typeof d !== 'object'
    || !SHAPE.every((k) => Number.isInteger(d[k]) && (d[k] as number) > 0)
    || !counts.every((k) => Number.isInteger(d[k]))) {
    throw damaged('no valid "dataset" record');
  }
  if (continuing) {
    const sch = record.schedule as Partial<RunConfigRecord['schedule']> | undefined;
    if (!sch || typeof sch !== 'object' || !Number.isInteger(sch.epochs) || !Number.isInteger(sch.totalSteps)) throw damaged('no valid "schedule" record');
    if (record.resumedFrom !== undefined && !Array.isArray(record.resumedFrom)) throw damaged('"resumedFrom" is not a list');
  }
  try {
    return { ...record, config: resolveConfig(record.config) };
  } catch (e) {
    if (e instanceof ConfigError) throw damaged(`its config is invalid: ${e.message}`);
    throw e;
  }
}
