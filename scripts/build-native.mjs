// Compiles our two optional N-API addons into dist/native/<platform>-<arch>/:
// - fast-advprop-kernels.node: the native build of our kernels (src/engine/backend/kernels/native/:
//   kernels.c with its wasm SIMD mapped to x86 vectors of 4, 8 and 16 floats with FMA, plus an N-API
//   wrapper), which the engine loads in place of the wasm kernels where it loads (fastKernels.ts;
//   FAST_ADVPROP_NATIVE=0 keeps wasm);
// - fast-advprop-jpeg.node (Linux): libjpeg-turbo's partial decode of a JPEG crop for the streaming
//   loader (src/engine/data/native/jpegCrop.c; turboJpeg.ts), linked against Debian's libjpeg62-turbo,
//   whose libjpeg.so.62 is copied beside it and found through RUNPATH $ORIGIN, so the packaged
//   extension needs no system libjpeg. Without the addon sharp decodes every image.
//   node scripts/build-native.mjs           builds what is older than its sources
//   node scripts/build-native.mjs --force   rebuilds
// Optional by design: each addon that cannot be built (another platform, no C compiler, no Node
// headers, no jpeglib.h: apt-get install libjpeg62-turbo-dev) is skipped with the reason; the script
// exits 3 when the kernels were not built. scripts/build.mjs runs it (tolerating failure), so
// `npm test` tests the native paths wherever they build.
// Needs only what a Debian machine with Node has: gcc or clang, Node's own headers
// (<prefix>/include/node/node_api.h) and, for the JPEG addon, libjpeg62-turbo-dev; nothing is
// downloaded (no node-gyp).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const plat = `${process.platform}-${process.arch}`;
const outDir = join(root, 'dist/native', plat);
const force = process.argv.includes('--force');
const self = fileURLToPath(import.meta.url);

/** Whether `out` is missing or older than one of `sources` (this script's flags count as a source). */
function stale(out, sources) {
  return force || !existsSync(out) || [self, ...sources].some((s) => statSync(s).mtimeMs > statSync(out).mtimeMs);
}

const cc = [process.env.CC, 'cc', 'gcc', 'clang', 'clang-16'].filter(Boolean).find((n) => {
  try {
    execFileSync(n, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const headers = [join(dirname(process.execPath), '..', 'include', 'node'), process.config?.variables?.node_prefix && join(process.config.variables.node_prefix, 'include', 'node')]
  .filter(Boolean).find((d) => existsSync(join(d, 'node_api.h')));
const run = (args) => execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });

/** Builds one addon in a scratch folder and moves it into place; returns why not, or ''. */
function build(name, sources, steps) {
  const out = join(outDir, name);
  if (!stale(out, sources)) return '';
  if (!cc) return 'no C compiler: apt-get install gcc';
  if (!headers) return `no node_api.h next to ${process.execPath}`;
  const tmp = mkdtempSync(join(tmpdir(), 'fap-native-'));
  try {
    mkdirSync(outDir, { recursive: true });
    const built = steps(tmp);
    renameSync(built, out);
    console.log(`build-native: ${out.slice(root.length + 1)} (${statSync(out).size} bytes, ${cc})`);
    return '';
  } catch (e) {
    return `compile failed: ${e.message.split('\n')[0]}`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function buildKernels() {
  if (process.arch !== 'x64' || !['linux', 'darwin'].includes(process.platform)) return `no native kernels for ${plat}`;
  const src = join(root, 'src/engine/backend/kernels');
  const native = join(src, 'native');
  return build('fast-advprop-kernels.node', [join(src, 'kernels.c'), ...readdirSync(native).map((f) => join(native, f))], (tmp) => {
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
    return join(tmp, 'addon.node');
  });
}

/** The libjpeg.so.62 the compiler links against (Debian: libjpeg62-turbo-dev), or undefined. */
function systemLibjpeg() {
  try {
    const f = execFileSync(cc, ['-print-file-name=libjpeg.so.62']).toString().trim();
    return f.startsWith('/') && existsSync(f) ? realpathSync(f) : undefined;
  } catch {
    return undefined;
  }
}

function buildJpeg() {
  if (process.platform !== 'linux') return `the JPEG addon is built for Linux only, not ${plat}`;
  const source = join(root, 'src/engine/data/native/jpegCrop.c');
  const lib = cc && systemLibjpeg();
  if (cc && !lib) return 'no libjpeg.so.62: apt-get install libjpeg62-turbo-dev';
  const why = build('fast-advprop-jpeg.node', [source], (tmp) => {
    // Linked against the libjpeg.so.62 copied beside it ($ORIGIN first), whatever the system has.
    run(['-O2', '-fPIC', '-fvisibility=hidden', '-ffp-contract=off', '-fno-fast-math', '-Wall', '-shared', '-s', `-I${headers}`, source, '-o', join(tmp, 'jpeg.node'), lib, "-Wl,-rpath,$ORIGIN"]);
    return join(tmp, 'jpeg.node');
  });
  if (!why && lib && (!existsSync(join(outDir, 'libjpeg.so.62')) || force)) copyFileSync(lib, join(outDir, 'libjpeg.so.62'));
  // libjpeg-turbo's licences (IJG, BSD-3-Clause, zlib) ask for their notices beside the binary.
  const notice = '/usr/share/doc/libjpeg62-turbo/copyright';
  if (!why && existsSync(notice)) copyFileSync(notice, join(outDir, 'libjpeg-turbo.copyright'));
  return why;
}

const jpegWhy = buildJpeg();
if (jpegWhy) console.warn(`build-native: fast-advprop-jpeg.node not built (${jpegWhy}); the loader decodes with sharp`);
const kernelsWhy = buildKernels();
if (kernelsWhy) {
  console.warn(`build-native: fast-advprop-kernels.node not built (${kernelsWhy}); the engine uses the wasm kernels`);
  process.exit(3);
}
