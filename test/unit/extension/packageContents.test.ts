// What `npm run package` puts in the .vsix: `vsce ls` over the built tree (npm test builds first).
// vsce applies .vscodeignore's "!" patterns after all others, so one broad "!dist/**" once shipped
// 15 MB of source maps and the .vsix being written (which broke the next package run).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

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
    const unwanted = files.filter((f) => /\.(map|vsix|ts|c)$/.test(f) || /^(src|test|scripts|out|node_modules|docs)\//.test(f));
    assert.deepEqual(unwanted, []);
  });
});
