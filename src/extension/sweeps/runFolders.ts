// A sweep folder sits in the runs folder like a run (`<runs>/<sweep>/sweep.json`) and holds its
// points' run folders in `<sweep>/runs/`. The Runs model follows those run folders like any other,
// so the dashboard, Compare and Stop see them; the Runs view shows them under their sweep.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SWEEP_MANIFEST_FILE = 'sweep.json';

export function isSweepFolder(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, SWEEP_MANIFEST_FILE)).isFile();
  } catch {
    return false;
  }
}

/** The run folders a runs-folder entry stands for: itself, or a sweep's runs/* (never a symlink out). */
export function runFoldersOf(dir: string): string[] {
  if (!isSweepFolder(dir)) return [dir];
  const runs = path.join(dir, 'runs');
  try {
    return fs.readdirSync(runs, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(runs, d.name));
  } catch {
    return [];
  }
}
