// Compiles the native build of our kernels (src/engine/backend/kernels/native/: kernels.c with its
// wasm SIMD mapped to x86 vectors of 4, 8 and 16 floats with FMA, plus an N-API wrapper) into
// dist/native/<platform>-<arch>/fast-advprop-kernels.node, which the engine loads in place of the
// wasm kernels where it loads (fastKernels.ts; FAST_ADVPROP_NATIVE=0 keeps wasm).
//   node scripts/build-native.mjs           builds unless the addon is newer than its sources
//   node scripts/build-native.mjs --force   rebuilds
// Optional by design: on a platform other than x86-64 Linux/macOS, or without a C compiler or
// Node's headers, it says why and exits 3, and everything runs on the wasm kernels.
// scripts/build.mjs runs it (tolerating failure), so `npm test` tests the native path wherever it builds.
// Needs only what a Debian machine with Node has: gcc or clang, and Node's own headers
// (<prefix>/include/node/node_api.h); nothing is downloaded (no node-gyp).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/engine/backend/kernels');
const native = join(src, 'native');
const plat = `${process.platform}-${process.arch}`;
const out = join(root, 'dist/native', plat, 'fast-advprop-kernels.node');

function skip(why) {
  console.warn(`build-native: not built (${why}); the engine uses the wasm kernels`);
  process.exit(3);
}

if (process.arch !== 'x64' || !['linux', 'darwin'].includes(process.platform)) skip(`no native kernels for ${plat}`);
// This script's flags count as a source too.
const sources = [fileURLToPath(import.meta.url), join(src, 'kernels.c'), ...readdirSync(native).map((f) => join(native, f))];
if (!process.argv.includes('--force') && existsSync(out) && sources.every((s) => statSync(s).mtimeMs <= statSync(out).mtimeMs)) process.exit(0);

const cc = [process.env.CC, 'cc', 'gcc', 'clang', 'clang-16'].filter(Boolean).find((n) => {
  try {
    execFileSync(n, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!cc) skip('no C compiler: apt-get install gcc');
const headers = [join(dirname(process.execPath), '..', 'include', 'node'), process.config?.variables?.node_prefix && join(process.config.variables.node_prefix, 'include', 'node')]
  .filter(Boolean).find((d) => existsSync(join(d, 'node_api.h')));
if (!headers) skip(`no node_api.h next to ${process.execPath}`);

const tmp = mkdtempSync(join(tmpdir(), 'fap-native-'));
try {
  const run = (args) => execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  // The kernels at 4, 8 and 16 lanes (AVX2 + FMA; AVX-512F for 16), with no contraction of a separate
  // multiply and add into an FMA, so that only kernels.c's `mad` is fused, exactly as in the
  // relaxed-SIMD wasm build (bit-identical results). Unknown-attribute warnings are the wasm
  // export/import names, meaningless here.
  const quiet = cc.includes('clang') ? '-Wno-unknown-attributes' : '-Wno-attributes';
  const objs = [4, 8, 16].map((lanes) => {
    const o = join(tmp, `kernels-v${lanes}.o`);
    run(['-O3', '-fPIC', '-fvisibility=hidden', '-mavx2', '-mfma', ...(lanes === 16 ? ['-mavx512f'] : []), '-ffp-contract=off', '-fno-fast-math', quiet, `-DVL=${lanes}`, `-I${native}`, '-c', join(native, 'kernels_x86.c'), '-o', o]);
    return o;
  });
  // The wrapper: baseline x86-64, so that it can refuse a CPU without AVX2/FMA instead of crashing on it.
  run(['-O2', '-fPIC', '-fvisibility=hidden', `-I${headers}`, '-c', join(native, 'addon.c'), '-o', join(tmp, 'addon.o')]);
  const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared', '-s'];
  run([...link, '-o', join(tmp, 'addon.node'), join(tmp, 'addon.o'), ...objs]);
  mkdirSync(dirname(out), { recursive: true });
  renameSync(join(tmp, 'addon.node'), out);
  console.log(`build-native: ${out.slice(root.length + 1)} (${statSync(out).size} bytes, ${cc})`);
} catch (e) {
  skip(`compile failed: ${e.message.split('\n')[0]}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
