// Counts what a tail really reads: every fs.readSync in this process while `fn` runs. Patches the
// module object itself (an `import *` namespace is read-only), which the tails read through.
export function countingReadSync(fn: (bytes: () => number) => void): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require('node:fs') as { readSync: (...a: unknown[]) => number };
  const real = nodeFs.readSync;
  let bytes = 0;
  nodeFs.readSync = (...a: unknown[]) => {
    const n = real(...a);
    bytes += n;
    return n;
  };
  try {
    fn(() => bytes);
  } finally {
    nodeFs.readSync = real;
  }
}
