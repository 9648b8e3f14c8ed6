// The engine's folders form layers and imports point down only (README, Layout). Reads the
// sources, not the bundle, so a new upward import fails here before it becomes a cycle.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');
const SRC = path.join(ROOT, 'src');

/**
 * Top (0) to bottom. Folders on one rank may not import each other either. `exec` sits above
 * `model` because a replica compiles and runs the model; `attack` drives replicas.
 */
const ENGINE_LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['study', 'bench'],
  ['sweep'],
  ['train', 'robustness'],
  ['run'],
  ['attack'],
  ['exec'],
  ['model'],
  ['backend', 'data', 'budget'],
  ['util'],
];

const NODE_BUILTINS = new Set(builtinModules);

function rankOf(folder: string): number {
  return ENGINE_LAYERS.findIndex((l) => l.includes(folder));
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every module specifier a file names: static imports and re-exports, import(), require(). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

/** Where a source file sits: 'engine:<folder>' (or 'engine:' for src/engine/*.ts), 'shared', 'extension', or undefined. */
function placeOf(file: string): string | undefined {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel[0] === 'engine') {
    // '../model' names the folder's index.ts.
    const folder = rel.length > 2 || (rel.length === 2 && fs.statSync(file, { throwIfNoEntry: false })?.isDirectory());
    return folder ? `engine:${rel[1]}` : 'engine:';
  }
  if (rel[0] === 'shared' || rel[0] === 'extension') return rel[0];
  return undefined;
}

function violations(): string[] {
  const bad: string[] = [];
  for (const file of [...sources(path.join(SRC, 'engine')), ...sources(path.join(SRC, 'shared'))]) {
    const from = placeOf(file)!;
    const where = path.relative(ROOT, file);
    for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
      if (spec === 'vscode') {
        bad.push(`${where} imports vscode`);
        continue;
      }
      // The webview project compiles src/shared with DOM types only (webview/tsconfig.json).
      if (from === 'shared' && (spec.startsWith('node:') || NODE_BUILTINS.has(spec))) {
        bad.push(`${where} (shared) imports ${spec}: the webview compiles src/shared without Node; put it in src/engine`);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const to = placeOf(path.resolve(path.dirname(file), spec));
      if (to === undefined || to === from) continue;
      if (to === 'extension') bad.push(`${where} imports the extension (${spec})`);
      else if (from === 'shared' && to.startsWith('engine')) bad.push(`${where} (shared) imports the engine (${spec})`);
      else if (from.startsWith('engine:') && to.startsWith('engine:')) {
        const a = from.slice(7);
        const b = to.slice(7);
        if (a === '' || b === '') {
          if (b === '') bad.push(`${where} imports the engine's entry file (${spec})`);
          continue;
        }
        const ra = rankOf(a);
        const rb = rankOf(b);
        if (ra < 0) bad.push(`${where}: folder src/engine/${a} has no layer; add it to ENGINE_LAYERS and docs/architecture.md`);
        else if (rb < 0) bad.push(`${where} imports src/engine/${b}, which has no layer`);
        else if (rb <= ra) bad.push(`${where} (${a}) imports ${b} (${spec}): ${rb === ra ? 'same layer' : 'upward'}`);
      }
    }
  }
  return bad;
}

describe('engine layering', () => {
  it('reads every kind of import', () => {
    const text = [
      "import * as fs from 'node:fs';",
      "import type { A } from '../model/types';",
      "export { B } from '../exec/types';",
      "import {\n  C,\n  D,\n} from '../backend/select';",
      "const m = await import('../data/load');",
      "const r = require('../util/rng');",
      "import './side-effect';",
    ].join('\n');
    assert.deepEqual(specifiers(text), ['node:fs', '../model/types', '../exec/types', '../backend/select', '../data/load', '../util/rng', './side-effect']);
  });

  it('every engine folder has a layer', () => {
    const folders = fs.readdirSync(path.join(SRC, 'engine'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(folders.filter((f) => rankOf(f) < 0), []);
  });

  it('imports point down only; the engine and shared never import vscode or the extension; shared never imports Node', () => {
    assert.deepEqual(violations(), []);
  });
});
