import * as fs from 'node:fs';
import * as path from 'node:path';

// The same code runs bundled (dist/cli.js) and transpiled (out/src/engine/cli/version.js), at
// different depths below the package root, so look upward for our own package.json.
let cached: string | undefined;

export function engineVersion(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fast-advprop' && pkg.version) return (cached = pkg.version);
    } catch {
      /* keep looking */
    }
    dir = path.dirname(dir);
  }
  return (cached = 'unknown');
}
