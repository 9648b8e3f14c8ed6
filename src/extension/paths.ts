// Where runs live and which folders the extension may touch. Commands receive run folders from
// tree items, other windows and tests; a delete or a stop.request must never land outside the runs
// folder, so every path from outside goes through here. No vscode import: unit tested.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The character set the engine accepts for a config `name`; no separators, no leading dot. */
export const RUN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function within(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) && !rel.includes(path.sep);
}

/**
 * The folder a new run called `name` gets: a direct child of the runs folder. Throws for names
 * that would escape it ("../x", "/abs", "a/b") and for an existing symlink at that place, which
 * could point anywhere.
 */
export function safeRunDir(runsFolder: string, name: string): string {
  if (typeof name !== 'string' || !RUN_NAME_RE.test(name)) {
    throw new UnsafePathError(
      `run name ${JSON.stringify(name)} is not allowed: use 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  const root = path.resolve(runsFolder);
  const dir = path.join(root, name);
  if (!within(root, dir)) throw new UnsafePathError(`run name ${JSON.stringify(name)} escapes the runs folder`);
  assertNotSymlinkEscape(root, dir);
  return dir;
}

function assertNotSymlinkEscape(root: string, dir: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return; // not there yet: nothing to follow
  }
  if (st.isSymbolicLink()) throw new UnsafePathError(`${dir} is a symbolic link; run folders must be real folders inside the runs folder`);
  if (!within(realOrResolved(root), realOrResolved(dir))) throw new UnsafePathError(`${dir} resolves outside the runs folder`);
}

/**
 * Checks that `runDir` (from a command argument) is an existing-or-not direct child of the runs
 * folder and not a symlink; returns it normalised. Looser than safeRunDir on the name because runs
 * started from a terminal may carry any folder name.
 */
export function checkRunDir(runsFolder: string, runDir: string): string {
  if (typeof runDir !== 'string' || runDir.trim() === '') throw new UnsafePathError('no run folder given');
  const root = path.resolve(runsFolder);
  const dir = path.resolve(root, runDir);
  const base = path.basename(dir);
  if (!within(root, dir) || base === '.' || base === '..') {
    throw new UnsafePathError(`${runDir} is not a run folder inside the runs folder ${root}`);
  }
  assertNotSymlinkEscape(root, dir);
  return dir;
}

/**
 * The runs folder from the `fastAdvprop.runsFolder` setting: absolute as given, relative to the
 * first workspace folder, or (no workspace) under the extension's global storage.
 */
export function resolveRunsFolder(setting: string | undefined, workspaceFolder: string | undefined, globalStorage: string): string {
  const value = (setting ?? '').trim() || '.advprop-runs';
  if (path.isAbsolute(value)) return path.normalize(value);
  if (workspaceFolder) return path.resolve(workspaceFolder, value);
  return path.join(globalStorage, 'runs');
}
