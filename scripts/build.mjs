// Builds the three bundles (extension host, engine CLI + worker, webviews) and
// transpiles src/ + test/ into out/ so mocha can run the unit and integration suites.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
// --tests-only: just the out/ transpile (what mocha needs). --tolerant: a file that fails to
// transpile is reported but does not stop the others (useful while several areas are in flux).
const testsOnly = process.argv.includes('--tests-only');
const tolerant = process.argv.includes('--tolerant');

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// sharp (optional image decoder) is native too: required at run time, never bundled.
const optionalNative = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'sharp'];

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
};

const webviewEntries = walk(join(root, 'webview')).filter((f) => /webview[\\/][^\\/]+\.ts$/.test(f) && !f.endsWith('.test.ts'));
const engineEntries = ['cli', 'exec/worker', 'data/loaderWorker'].map((e) => join(root, 'src/engine', `${e}.ts`)).filter(existsSync);

const builds = [
  { ...node, entryPoints: [join(root, 'src/extension/extension.ts')], outfile: join(root, 'dist/extension.js'), external: ['vscode'] },
  // The engine CLI and its worker sit side by side in dist/ so the pool finds worker.js next to cli.js.
  ...engineEntries.map((e) => ({ ...node, entryPoints: [e], outfile: join(root, 'dist', e.endsWith('loaderWorker.ts') ? 'loaderWorker.js' : e.endsWith('worker.ts') ? 'worker.js' : 'cli.js'), external: optionalNative })),
  webviewEntries.length && {
    bundle: true, platform: 'browser', format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning',
    entryPoints: webviewEntries, outdir: join(root, 'dist/webview'),
  },
].filter(Boolean);

// Unbundled transpile for tests: keeps module boundaries so tests can import internals.
const transpile = {
  outdir: join(root, 'out'), outbase: root, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'silent',
};
const transpileFiles = [...walk(join(root, 'src')), ...walk(join(root, 'test'))];

async function transpileAll() {
  if (!tolerant) return esbuild.build({ ...transpile, entryPoints: transpileFiles, logLevel: 'warning' });
  const failed = [];
  await Promise.all(transpileFiles.map((f) => esbuild.build({ ...transpile, entryPoints: [f] }).catch((e) => failed.push(`${f}: ${e.message.split('\n')[1] ?? e.message}`))));
  for (const f of failed) console.error(`transpile failed: ${f}`);
}

function copyWasm() {
  const from = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (const f of readdirSync(from)) if (f.endsWith('.wasm')) cpSync(join(from, f), join(root, 'dist', f));
}

/**
 * Dawn for Node (npm `webgpu`, optional) ships a 20-40 MB binary per platform; the engine loads it
 * from dist/dawn/<platform>-<arch>/ next to cli.js, so only this platform's one goes into dist/
 * (and into a .vsix packaged here: `npm run package` targets this platform).
 */
function copyDawn() {
  const plat = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const from = join(root, 'node_modules/webgpu/dist', plat, 'dawn.node');
  if (!existsSync(from)) return;
  mkdirSync(join(root, 'dist/dawn', plat), { recursive: true });
  cpSync(from, join(root, 'dist/dawn', plat, 'dawn.node'));
}

/**
 * sharp (the streaming loader's image decoder, optional) is external to the bundles: Node resolves
 * require('sharp') from dist/loaderWorker.js through dist/node_modules/ first, so this platform's
 * sharp, its libvips and its three small JS dependencies are copied there (about 21 MB on Linux x64)
 * and a .vsix packaged here carries them. Without them the loader falls back to jpeg-js/pngjs and
 * the run log says why.
 */
function copySharp() {
  const plat = `${process.platform}${process.platform === 'linux' && isMusl() ? 'musl' : ''}-${process.arch}`;
  const pkgs = ['sharp', '@img/colour', 'detect-libc', 'semver', `@img/sharp-${plat}`, `@img/sharp-libvips-${plat}`];
  if (!pkgs.every((p) => existsSync(join(root, 'node_modules', p, 'package.json')))) return;
  for (const p of pkgs) {
    const to = join(root, 'dist/node_modules', p);
    if (existsSync(join(to, 'package.json')) && statSync(join(to, 'package.json')).mtimeMs >= statSync(join(root, 'node_modules', p, 'package.json')).mtimeMs) continue;
    cpSync(join(root, 'node_modules', p), to, { recursive: true, filter: (src) => !/[\\/](src|install)([\\/]|$)|\.d\.[cm]?ts$|\.map$/.test(src.slice(join(root, 'node_modules', p).length)) });
  }
}

function isMusl() {
  try {
    return !process.report?.getReport()?.header?.glibcVersionRuntime;
  } catch {
    return false;
  }
}

/**
 * Our kernels' native build (an N-API addon for x86-64 with AVX2/FMA) into dist/native/, where a
 * compiler is at hand; optional: without it the engine runs the wasm kernels, so a failure here is
 * reported by the script and the build goes on. Up-to-date addons are not rebuilt.
 */
function buildNative() {
  spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs')], { stdio: 'inherit' });
}

copyWasm();
buildNative();
if (!testsOnly) copyDawn();
if (!testsOnly) copySharp();
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else if (testsOnly) {
  await transpileAll();
} else {
  await Promise.all([...builds.map((b) => esbuild.build(b)), transpileAll()]);
}
