// What `npm run package` puts in the .vsix: `vsce ls` over the built tree (npm test builds first).
// vsce applies .vscodeignore's "!" patterns after all others, so one broad "!dist/**" once shipped
// 15 MB of source maps and the .vsix being written (which broke the next package run).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJpegFolder } from '../../../src/engine/bench/jpegFolder';

const ROOT = path.join(__dirname, '../../../..');

describe('extension: the packaged file list', function () {
  this.timeout(60_000);

  it('ships the bundles, the wasm binaries, the webviews and media, and no source maps, sources or .vsix', function () {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) this.skip(); // unit tests run on a test-only build
    const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    const r = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const f of ['package.json', 'README.md', 'dist/extension.js', 'dist/cli.js', 'dist/worker.js', 'dist/loaderWorker.js', 'dist/tfjs-backend-wasm-simd.wasm', 'dist/webview/dashboard.js', 'dist/webview/dashboard.css', 'media/advprop.schema.json', 'media/datasets/fashion-mnist-subset/train-images-idx3-ubyte.gz']) {
      assert.ok(files.includes(f), `${f} is missing from the package`);
    }
    // The GPU backend's Dawn binary: this platform's only (the package is platform-specific).
    const plat = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
    const dawn = files.filter((f) => f.startsWith('dist/dawn/'));
    if (fs.existsSync(path.join(ROOT, 'node_modules', 'webgpu'))) assert.deepEqual(dawn, [`dist/dawn/${plat}/dawn.node`]);
    else assert.deepEqual(dawn, []);
    // The streaming loader's decoder: sharp with this platform's libvips, resolved from dist/node_modules/.
    if (fs.existsSync(path.join(ROOT, 'node_modules', 'sharp'))) {
      assert.ok(files.includes('dist/node_modules/sharp/package.json') && files.some((f) => /^dist\/node_modules\/@img\/sharp-libvips-[^/]+\/lib\/libvips-cpp\./.test(f)), 'sharp and libvips are missing from the package');
    }
    // The native kernels (issue #17) and the JPEG addon with its libjpeg-turbo (issue #14): this
    // platform's, where the build made them; elsewhere the wasm kernels and sharp run.
    const native = files.filter((f) => f.startsWith('dist/native/')).sort();
    const nativeDir = `dist/native/${process.platform}-${process.arch}`;
    const built = ['fast-advprop-jpeg.node', 'fast-advprop-kernels.node', 'libjpeg-turbo.copyright', 'libjpeg.so.62'].filter((f) => fs.existsSync(path.join(ROOT, nativeDir, f)));
    assert.deepEqual(native, built.map((f) => `${nativeDir}/${f}`));
    if (built.includes('fast-advprop-jpeg.node')) assert.ok(built.includes('libjpeg.so.62') && built.includes('libjpeg-turbo.copyright'), 'the JPEG addon ships without its libjpeg or its notice');
    const unwanted = files.filter((f) => /\.(map|vsix|ts|c)$/.test(f) || /^(src|test|scripts|out|node_modules|docs)\//.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('an unpacked .vsix trains a streamed JPEG folder with decoder "sharp", loading sharp and libvips from its own dist/node_modules, and with "turbo", the native kernels and libjpeg-turbo from its dist/native', async function () {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js')) || !fs.existsSync(path.join(ROOT, 'node_modules', 'sharp'))) this.skip();
    const unzip = ['unzip', 'python3'].find((c) => spawnSync(c, ['--help'], { stdio: 'ignore' }).status !== null && !spawnSync(c, ['--help'], { stdio: 'ignore' }).error);
    if (!unzip) this.skip();
    // Outside the repository, so that no node_modules above it could supply sharp instead.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-vsix-'));
    try {
      const vsix = path.join(tmp, 'fast-advprop.vsix');
      const target = ({ 'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'darwin-x64': 'darwin-x64', 'darwin-arm64': 'darwin-arm64', 'win32-x64': 'win32-x64' } as Record<string, string>)[`${process.platform}-${process.arch}`];
      const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
      const pack = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '-o', vsix, ...(target ? ['--target', target] : [])], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(pack.status, 0, pack.stderr + pack.stdout);
      const into = path.join(tmp, 'x');
      const un = unzip === 'unzip' ? spawnSync('unzip', ['-q', vsix, '-d', into]) : spawnSync('python3', ['-m', 'zipfile', '-e', vsix, into]);
      assert.equal(un.status, 0, String(un.stderr));
      const dist = path.join(into, 'extension', 'dist');
      const resolved = spawnSync(process.execPath, ['-p', "require.resolve('sharp')"], { cwd: dist, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
      assert.ok(resolved.stdout.trim().startsWith(path.join(dist, 'node_modules', 'sharp') + path.sep), `sharp resolves to ${resolved.stdout.trim()} ${resolved.stderr}`);
      await writeJpegFolder(path.join(tmp, 'data'), { classes: 2, perClass: 8, valPerClass: 2, seed: 3, size: [96, 72] });
      fs.writeFileSync(path.join(tmp, 'cfg.json'), JSON.stringify({
        method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 1, milestones: [], sameBudget: false,
        model: { arch: 'resnet8', width: 2 }, backend: 'cpu', workers: 1, logEvery: 1, seed: 5,
        augment: { crop: true, flip: true, mixupAlpha: 0, cutmixAlpha: 0 },
        // "sharp" refuses to start when sharp cannot load, rather than falling back to the JS decoder.
        dataset: { name: 'image-folder', path: path.join(tmp, 'data'), loader: 'stream', size: 32, workers: 1, prefetch: 1, decoder: 'sharp' },
      }));
      const run = path.join(tmp, 'run');
      // glibc's loader names every shared library it opens: libvips must come from the package.
      const env = { ...process.env, NODE_PATH: '', ...(process.platform === 'linux' ? { LD_DEBUG: 'libs' } : {}) };
      const r = spawnSync(process.execPath, [path.join(dist, 'cli.js'), 'train', '--config', path.join(tmp, 'cfg.json'), '--run-dir', run, '--max-steps', '1'], { cwd: tmp, encoding: 'utf8', env, maxBuffer: 64 << 20 });
      assert.equal(r.status, 0, r.stdout + r.stderr.slice(-4000));
      assert.match(fs.readFileSync(path.join(run, 'engine.log'), 'utf8'), /decode thread \(sharp [\d.]+ \(libvips [\d.]+\)\)/);
      // The native kernels load from the package too: FAST_ADVPROP_NATIVE=1 makes their absence an error.
      if (fs.existsSync(path.join(ROOT, 'dist', 'native'))) {
        const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'cfg.json'), 'utf8'));
        fs.writeFileSync(path.join(tmp, 'cfg-wasm.json'), JSON.stringify({ ...cfg, backend: 'wasm' }));
        const w = spawnSync(process.execPath, [path.join(dist, 'cli.js'), 'train', '--config', path.join(tmp, 'cfg-wasm.json'), '--run-dir', path.join(tmp, 'run-wasm'), '--max-steps', '1'], { cwd: tmp, encoding: 'utf8', env: { ...process.env, NODE_PATH: '', FAST_ADVPROP_NATIVE: '1' } });
        assert.equal(w.status, 0, w.stdout + w.stderr.slice(-4000));
        assert.match(fs.readFileSync(path.join(tmp, 'run-wasm', 'config.json'), 'utf8'), /our native AVX2\/FMA kernels/);
      }
      if (process.platform === 'linux') {
        const vips = [...r.stderr.matchAll(/trying file=(\S*libvips-cpp\.so\S*)/g)].map((m) => m[1]);
        assert.ok(vips.length > 0 && vips.every((f) => f.startsWith(path.join(dist, 'node_modules'))), `libvips looked up outside the package: ${[...new Set(vips)].slice(0, 3).join(', ')}`);
      }
      // The JPEG addon decodes from the package's own libjpeg-turbo: "turbo" refuses to start without
      // the addon, and glibc's loader log shows libjpeg.so.62 taken from dist/native, not the system.
      if (fs.existsSync(path.join(ROOT, 'dist', 'native', `${process.platform}-${process.arch}`, 'fast-advprop-jpeg.node'))) {
        const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'cfg.json'), 'utf8'));
        fs.writeFileSync(path.join(tmp, 'cfg-turbo.json'), JSON.stringify({ ...cfg, dataset: { ...cfg.dataset, decoder: 'turbo' } }));
        const t = spawnSync(process.execPath, [path.join(dist, 'cli.js'), 'train', '--config', path.join(tmp, 'cfg-turbo.json'), '--run-dir', path.join(tmp, 'run-turbo'), '--max-steps', '1'], { cwd: tmp, encoding: 'utf8', env, maxBuffer: 64 << 20 });
        assert.equal(t.status, 0, t.stdout + t.stderr.slice(-4000));
        assert.match(fs.readFileSync(path.join(tmp, 'run-turbo', 'engine.log'), 'utf8'), /decode threads? \(libjpeg-turbo [\d.]+ \(crops decoded in part\) for JPEG, sharp /);
        const opened = [...t.stderr.matchAll(/trying file=(\S*libjpeg\.so\.62)\b/g)].map((m) => m[1]);
        assert.ok(opened.length > 0 && opened.every((f) => f.startsWith(path.join(dist, 'native') + path.sep)), `libjpeg.so.62 looked up outside the package: ${[...new Set(opened)].filter((f) => !f.startsWith(dist)).join(', ')}`);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
