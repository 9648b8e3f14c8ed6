#!/usr/bin/env node
// Measures what extension activation costs: loading dist/extension.js and running activate().
// A real VS Code is not available to `npm run bench` (it runs in seconds, anywhere), so the
// `vscode` module is replaced by an inert stand-in whose calls return disposables; what is timed
// is our own code — module loading, watchers, providers, command registration — which is what
// an accidental heavy import (TensorFlow.js, chart.js) would slow down. The extension also logs
// its activation time in the "Fast AdvProp" output channel inside real VS Code.
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const bundle = path.join(root, 'dist', 'extension.js');
const TARGET_MS = 50;

function inert(name) {
  const fn = function () {};
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'dispose') return () => {};
      if (prop === Symbol.toPrimitive) return () => name;
      if (prop === 'then') return undefined; // not a thenable
      if (prop === 'fsPath' || prop === 'path') return path.join(os.tmpdir(), 'fast-advprop-bench-stub');
      return inert(`${name}.${String(prop)}`);
    },
    set: () => true,
    apply: () => inert(`${name}()`),
    construct: () => inert(`new ${name}`),
  });
}

function memento() {
  const m = new Map();
  return { get: (k, d) => (m.has(k) ? m.get(k) : d), update: async (k, v) => void m.set(k, v), keys: () => [...m.keys()] };
}

function makeVscodeStub() {
  const config = { get: (_k, d) => d, has: () => false, inspect: () => undefined, update: async () => {} };
  const workspace = new Proxy(inert('vscode.workspace'), {
    get(t, prop) {
      if (prop === 'getConfiguration') return () => config;
      if (prop === 'workspaceFolders') return undefined;
      if (prop === 'isTrusted') return true;
      return t[prop];
    },
  });
  class EventEmitter {
    constructor() { this.listeners = []; this.event = (l) => { this.listeners.push(l); return { dispose() {} }; }; }
    fire(v) { for (const l of this.listeners) l(v); }
    dispose() {}
  }
  // esbuild's interop copies the module's own keys, so the stand-in must be a plain object that
  // names every API the bundle touches; anything unlisted shows up as a clear "not a function".
  const api = { workspace, EventEmitter };
  const names = fs.readFileSync(bundle, 'utf8').match(/\bvscode\d*\.[A-Za-z]+/g) ?? [];
  for (const n of new Set(names.map((x) => x.replace(/^vscode\d*\./, '')))) {
    if (!(n in api)) api[n] = n[0] === n[0].toUpperCase() && /[a-z]/.test(n.slice(1)) && !n.endsWith('State') && !n.endsWith('Location') && !n.endsWith('Alignment') && !n.endsWith('Column') ? class { constructor(...a) { this.args = a; } } : inert(`vscode.${n}`);
  }
  api.Uri = { file: (p) => ({ fsPath: p, path: p, toString: () => `file://${p}` }), joinPath: (u, ...ps) => ({ fsPath: path.join(u.fsPath, ...ps), path: path.join(u.fsPath, ...ps) }), parse: (s) => ({ fsPath: s, path: s, toString: () => s }) };
  return api;
}

function main() {
  if (!fs.existsSync(bundle)) {
    console.error(`error: ${path.relative(process.cwd(), bundle)} is missing; run "npm run build" first`);
    process.exit(2);
  }
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-advprop-activation-'));
  const vscodeStub = makeVscodeStub();
  const origLoad = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === 'vscode') return vscodeStub;
    return origLoad.call(this, request, parent, isMain);
  };
  const loadedBefore = Object.keys(require.cache).length;
  const t0 = process.hrtime.bigint();
  const ext = require(bundle);
  const t1 = process.hrtime.bigint();
  const context = {
    subscriptions: [],
    workspaceState: memento(),
    globalState: memento(),
    extensionPath: root,
    extensionUri: { fsPath: root, path: root },
    globalStorageUri: { fsPath: storage, path: storage },
    storageUri: undefined,
    asAbsolutePath: (p) => path.join(root, p),
    extensionMode: 1,
  };
  ext.activate(context);
  const t2 = process.hrtime.bigint();
  for (const d of context.subscriptions.reverse()) {
    try { d.dispose(); } catch { /* inert stand-ins */ }
  }
  const heavy = Object.keys(require.cache).filter((k) => /@tensorflow|chart\.js/.test(k));
  const loadMs = Number(t1 - t0) / 1e6;
  const activateMs = Number(t2 - t1) / 1e6;
  const total = loadMs + activateMs;
  const report = { activation: { loadMs, activateMs, totalMs: total, targetMs: TARGET_MS, ratioToTarget: total / TARGET_MS, modulesLoaded: Object.keys(require.cache).length - loadedBefore, heavyModules: heavy } };
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    console.log('\nextension activation (dist/extension.js, vscode API stubbed)');
    console.log(`  load ${loadMs.toFixed(1)} ms + activate ${activateMs.toFixed(1)} ms = ${total.toFixed(1)} ms  (target < ${TARGET_MS} ms: ${(total / TARGET_MS).toFixed(2)}× of it)`);
    console.log(`  TensorFlow.js / chart.js loaded in the host: ${heavy.length ? heavy.join(', ') : 'none'}`);
  }
  fs.rmSync(storage, { recursive: true, force: true });
  process.exit(heavy.length ? 1 : 0);
}

main();
