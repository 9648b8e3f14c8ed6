// Where the tfjs wasm binaries live. The bundle (dist/cli.js, dist/worker.js) gets them copied next
// to it by scripts/build.mjs; the unbundled test build (out/src/engine/backend/) finds them in
// node_modules. setWasmPaths must run before anything initialises the wasm backend, and tf.ready()
// with no backend set would pick wasm (it has the highest priority once registered), so this is
// called as soon as the backend module loads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const PROBE = 'tfjs-backend-wasm-simd.wasm';
let configured: string | null | undefined;

function candidates(): string[] {
  const out: string[] = [__dirname];
  // Walk up from this file (out/src/engine/backend → repo root) looking for the package's dist/.
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    out.push(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  try {
    out.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
  } catch {
    /* bundled: resolution may fail, the __dirname copy is what counts */
  }
  out.push(path.join(process.cwd(), 'dist'), path.join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
  return out;
}

/** Folder holding the .wasm files, or null when none was found. */
export function findWasmDir(): string | null {
  for (const c of candidates()) if (fs.existsSync(path.join(c, PROBE))) return c;
  return null;
}

/**
 * Points the wasm loader at files on disk. In Node emscripten reads a plain path with
 * fs.readFileSync (it only fetches in browsers), and usePlatformFetch stays false, so nothing
 * goes to the network. Returns the folder, or null if the binaries are missing.
 */
export function configureWasmPaths(): string | null {
  if (configured !== undefined) return configured;
  const dir = findWasmDir();
  configured = dir;
  if (dir) {
    try {
      setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep, false);
    } catch {
      /* already initialised (another module got there first): its paths stand */
    }
  }
  return dir;
}
