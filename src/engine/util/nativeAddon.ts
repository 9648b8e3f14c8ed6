import * as fs from 'node:fs';
import * as path from 'node:path';

// Where our optional N-API addons live (scripts/build-native.mjs writes them to
// dist/native/<platform>-<arch>/) and how they are opened: once per thread, a failure kept as a
// one-line reason for the run log rather than thrown, since every addon has a portable fallback.

/** Where an addon may be: next to the bundle (dist/native/…), else in a checkout's dist/ above this file. */
export function addonCandidates(file: string): string[] {
  const plat = `${process.platform}-${process.arch}`;
  const out = [path.join(__dirname, 'native', plat, file)];
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    out.push(path.join(dir, 'dist', 'native', plat, file));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

/** The addon's exports, or why it is unavailable. */
export function openAddon<T>(file: string): { addon: T; file: string } | { why: string } {
  const found = addonCandidates(file).find((f) => fs.existsSync(f));
  if (!found) return { why: `no ${file} for ${process.platform}-${process.arch} (node scripts/build-native.mjs builds it)` };
  try {
    const m = { exports: {} as T };
    process.dlopen(m, found);
    return { addon: m.exports, file: found };
  } catch (e) {
    return { why: `${found} did not load: ${(e as Error).message.split('\n')[0]}` };
  }
}
