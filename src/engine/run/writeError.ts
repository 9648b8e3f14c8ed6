import * as os from 'node:os';
import { shellCommand } from '../../shared/shellQuote';

// A write into the run folder that fails carries the file it was for (node's write errors name no
// path), and the three ways a disk refuses data (full, over quota, read-only) get one message that
// says what happened, where, and what to do about it. The original code stays in the text.

/** The errors a user fixes by making room (or making the disk writable), then resuming. */
export type DiskFullCode = 'ENOSPC' | 'EDQUOT' | 'EROFS';

const DISK_FULL: Record<DiskFullCode, { what: string; errno: string; fix: string }> = {
  ENOSPC: { what: 'disk full', errno: 'no space left on device', fix: 'free space on that disk' },
  EDQUOT: { what: 'disk quota exceeded', errno: 'disk quota exceeded', fix: 'free space within your quota on that disk (or have the quota raised)' },
  EROFS: { what: 'read-only file system', errno: 'read-only file system', fix: 'make that file system writable again (remount it read-write)' },
};

/** A failed write (or folder creation) in the run folder; `code` is the underlying errno code. */
export class FileWriteError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;

  constructor(readonly file: string, cause: unknown, action: 'write' | 'create' = 'write') {
    super(`cannot ${action} ${file} (${errnoText(cause)})`, { cause });
    this.name = 'FileWriteError';
    const err = cause as NodeJS.ErrnoException | undefined;
    this.code = diskFullCode(cause) ?? err?.code;
    this.errno = err?.errno;
  }
}

function codeOf(e: unknown): DiskFullCode | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (!err || typeof err !== 'object') return undefined;
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.code === 'EROFS') return err.code;
  // libuv has no name for EDQUOT: node reports "Unknown system error -122" there.
  const n = os.constants.errno as Record<string, number | undefined>;
  if (typeof err.errno === 'number') {
    if (n.ENOSPC !== undefined && err.errno === -n.ENOSPC) return 'ENOSPC';
    if (n.EDQUOT !== undefined && err.errno === -n.EDQUOT) return 'EDQUOT';
    if (n.EROFS !== undefined && err.errno === -n.EROFS) return 'EROFS';
  }
  return undefined;
}

/** ENOSPC, EDQUOT or EROFS when `e` (or what it wraps) is one of them. */
export function diskFullCode(e: unknown): DiskFullCode | undefined {
  for (let x = e, depth = 0; x && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const c = codeOf(x);
    if (c) return c;
  }
  return undefined;
}

/** "ENOTDIR: not a directory" from node's "ENOTDIR: not a directory, mkdir '/a/b'" (the caller names the path). */
export function errnoText(e: unknown): string {
  const dc = diskFullCode(e);
  if (dc) return `${dc}: ${DISK_FULL[dc].errno}`;
  if (e instanceof FileWriteError) return errnoText(e.cause);
  const err = e as NodeJS.ErrnoException;
  const msg = err instanceof Error ? err.message : String(e);
  if (err?.code && msg.startsWith(`${err.code}: `)) return msg.split(', ')[0];
  return err?.code ?? msg;
}

/**
 * The one-line message for a run that had to stop because a write failed, or undefined when `e`
 * is not a failed write. `checkpointStep` is the step of the checkpoint a resume would continue
 * from (undefined: the run has none yet, so it can only be started again); `nextStep` replaces that
 * advice for commands other than train (e.g. "run the evaluation again").
 */
export function writeFailureMessage(e: unknown, runDir: string, checkpointStep: number | undefined, nextStep?: string): string | undefined {
  const code = diskFullCode(e);
  const file = e instanceof FileWriteError ? e.file : undefined;
  if (!code) return file !== undefined ? (e as Error).message : undefined;
  const d = DISK_FULL[code];
  const next = nextStep !== undefined
    ? `then ${nextStep}`
    : checkpointStep !== undefined
      ? `then resume with: ${shellCommand(['fast-advprop', 'train', '--resume', runDir])} (it continues from the checkpoint at step ${checkpointStep})`
      : `then start the run again with: ${shellCommand(['fast-advprop', 'train', '--restart', runDir])} (it has no checkpoint to resume from yet)`;
  return `${d.what} while writing ${file ?? runDir} (${code}: ${d.errno}): ${d.fix}, ${next}`;
}
