// "Nothing let in": ≥ 1,000 generated invalid or mutated run configs through the config loader the
// engine and the extension share (parseConfigText / resolveConfig), then a sample of them through
// the real CLI. Every case must either resolve to a valid config or throw a ConfigError that names
// a field and says how to fix it; nothing else may escape, hang, or touch Object.prototype, and
// the CLI must refuse before it creates anything.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, parseConfigText, resolveConfig, type RunConfig } from '../../../src/shared/config';
import { SeededRandom, TINY_CONFIG, listTree, requireCli, rmDir, runCli, tmpDir } from './helpers';

type Obj = Record<string, unknown>;

export interface FuzzCase {
  id: number;
  kind: string;
  text: string;
}

const SECTIONS = ['attack', 'model', 'dataset', 'augment', 'leak'] as const;
const FIELDS: string[] = [
  'name', 'method', 'split', 'pAdv', 'bnGroups', 'beta', 'syncUpdateSpeed', 'reuseGradients', 'shuffleBN', 'decouple', 'sameBudget',
  'epochs', 'milestones', 'batchSize', 'lr', 'momentum', 'weightDecay', 'lrDecay', 'seed', 'backend', 'workers', 'maxSteps',
  'logEvery', 'autoEvaluate', 'attack.steps', 'attack.epsilon', 'attack.stepSize', 'attack.randomStart', 'attack.targeted',
  'model.arch', 'model.width', 'dataset.name', 'dataset.path', 'dataset.trainLimit', 'dataset.testLimit', 'dataset.size',
  'augment.crop', 'augment.flip', 'augment.mixupAlpha', 'augment.cutmixAlpha', 'leak.window', 'leak.margin', 'milestones.0',
];
const DANGEROUS_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

/** Too deep for JSON.stringify: spliced into the text after stringifying (see expandDeep). */
const DEEP_MARK = '@@deep@@';

function expandDeep(text: string): string {
  return text.replace(new RegExp(`"${DEEP_MARK}(\\d+):([ao])"`, 'g'), (_, n: string, k: string) => {
    const d = Number(n);
    return k === 'a' ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
  });
}

function deep(depth: number, leaf: unknown, arrays: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
}

function badValue(r: SeededRandom): unknown {
  const pool: (() => unknown)[] = [
    () => 'NaN', () => 'Infinity', () => '-Infinity', () => '1e309', () => '', () => ' ', () => '0x10', () => '12', () => 'true',
    () => null, () => true, () => false, () => [], () => {}, () => ({}), () => [1, 2, 3], () => ({ a: 1 }),
    () => -1, () => 0, () => -0, () => 0.5, () => 1.5, () => 1e308, () => -1e308, () => 2 ** 53 + 1, () => 1e-320, () => 4097, () => 513,
    () => 2 ** 32, () => 11, () => 1, () => 256,
    () => 'x'.repeat(1 + r.int(200000)), () => '\u0000', () => 'a\u0000b', () => '../../etc/passwd', () => '/abs/path', () => '\n\r\t',
    () => '__proto__', () => 'constructor', () => 'toString', () => 'fast-advprop\u0000', () => 'vanilla ', () => 'RESNET8', () => '4:0', () => '0:1',
    () => '4:1:1', () => ' 4 : 1 ', () => '-4:1', () => '1e1:1', () => '\u{1F600}', () => 'é'.repeat(300),
    () => deep(5 + r.int(50), 1, r.chance(0.5)), () => `${DEEP_MARK}${2000 + r.int(30000)}:${r.chance(0.5) ? 'a' : 'o'}`,
    () => ({ __proto__: 1 }), () => JSON.parse('{"__proto__": {"polluted": true}}'), () => JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
  ];
  return r.pick(pool)();
}

function setOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function setPath(o: Obj, p: string, v: unknown): void {
  const parts = p.split('.');
  let cur: Obj = o;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (typeof next !== 'object' || next === null) setOwn(cur, parts[i], {});
    cur = cur[parts[i]] as Obj;
  }
  setOwn(cur, parts[parts.length - 1], v);
}

function baseConfig(r: SeededRandom): Obj {
  // Start from the tiny config or a fuller one, so mutations hit both defaulted and given fields.
  const full: Obj = JSON.parse(JSON.stringify({ ...DEFAULT_CONFIG, ...TINY_CONFIG, $schema: './schema.json', name: 'fuzz-run' }));
  return r.chance(0.5) ? full : JSON.parse(JSON.stringify(TINY_CONFIG));
}

function randomKey(r: SeededRandom): string {
  return r.pick([
    () => r.pick(DANGEROUS_KEYS),
    () => `unknown${r.int(100)}`,
    () => 'Lr',
    () => 'batch_size',
    () => '',
    () => ' ',
    () => 'k'.repeat(5000),
    () => 'a.b',
    () => 'x\ny',
    () => '\u0000',
    () => '$schema2',
    () => 'milestones[0]',
  ])();
}

/** One generated case; the kinds cover the brief's list and a few more. */
export function generateCase(id: number, seed: number): FuzzCase {
  const r = new SeededRandom(seed * 7919 + id);
  const kinds = [
    'bad-value', 'bad-value', 'bad-value', 'bad-value', 'unknown-key', 'unknown-key-nested', 'section-not-object', 'root-not-object',
    'two-bad-values', 'milestones', 'truncated', 'comments', 'bom', 'byte-flip', 'trailing-comma', 'nonjson-literal', 'nul-bytes',
    'deep-text', 'proto-text', 'dataset-switch', 'split-padv',
  ];
  const kind = r.pick(kinds);
  const o = baseConfig(r);
  const text = (v: unknown): string => expandDeep(JSON.stringify(v, null, r.chance(0.5) ? 2 : undefined) ?? 'undefined');
  switch (kind) {
    case 'bad-value':
      setPath(o, r.pick(FIELDS), badValue(r));
      return { id, kind, text: text(o) };
    case 'two-bad-values':
      setPath(o, r.pick(FIELDS), badValue(r));
      setPath(o, r.pick(FIELDS), badValue(r));
      return { id, kind, text: text(o) };
    case 'unknown-key':
      setOwn(o, randomKey(r), badValue(r));
      return { id, kind, text: text(o) };
    case 'unknown-key-nested': {
      const s = r.pick(SECTIONS);
      const sec = (typeof o[s] === 'object' && o[s] !== null ? o[s] : {}) as Obj;
      setOwn(sec, randomKey(r), badValue(r));
      setOwn(o, s, sec);
      return { id, kind, text: text(o) };
    }
    case 'section-not-object':
      setOwn(o, r.pick(SECTIONS), r.pick([1, 'resnet8', null, [], [{}], true, 'x'.repeat(10000)]));
      return { id, kind, text: text(o) };
    case 'root-not-object':
      return { id, kind, text: text(r.pick([[], [o], 1, 'config', null, true, 0]) as unknown) };
    case 'milestones':
      setOwn(o, 'milestones', r.pick([[2, 1], [1, 1], [0], [-1], [1.5], ['1'], [null], 4, '4', {}, [1, 2, 3, 2], new Array(2000).fill(0).map((_, i) => i + 1).reverse()]));
      return { id, kind, text: text(o) };
    case 'truncated': {
      const t = text(o);
      return { id, kind, text: t.slice(0, r.int(t.length)) };
    }
    case 'comments': {
      // Valid comments in places a person would put them; plus an unterminated one sometimes.
      const t = text(o).replace('{', `{ // run config ${id}\n /* block\n comment */`);
      return { id, kind, text: r.chance(0.3) ? `${t}\n/* unterminated` : r.chance(0.3) ? `${t} // trailing` : t };
    }
    case 'bom':
      return { id, kind, text: `\uFEFF${text(o)}` };
    case 'byte-flip': {
      const t = [...text(o)];
      for (let n = 1 + r.int(3); n > 0; n--) t[r.int(t.length)] = String.fromCharCode(r.int(128));
      return { id, kind, text: t.join('') };
    }
    case 'trailing-comma':
      return { id, kind, text: text(o).replace(/}\s*$/, ',}') };
    case 'nonjson-literal': {
      const f = r.pick(['lr', 'epochs', 'beta', 'seed', 'momentum']);
      return { id, kind, text: text(o).replace(/^\{/, `{"${f}": ${r.pick(['NaN', 'Infinity', '-Infinity', 'undefined', '1e999', '0x10', '.5', '01', '+1', "'x'"])},`) };
    }
    case 'nul-bytes':
      return { id, kind, text: text(o).replace(/"(\w)/, '"\u0000$1') };
    case 'deep-text': {
      const n = 1000 + r.int(100000);
      return { id, kind, text: `{"lr": ${'['.repeat(n)}${r.chance(0.5) ? ']'.repeat(n) : ''}}` };
    }
    case 'proto-text': {
      const k = r.pick(['__proto__', 'constructor', 'prototype']);
      const where = r.pick(['', ...SECTIONS]);
      const inner = `"${k}": {"polluted": true, "prototype": {"polluted": true}}`;
      const t = text(o);
      if (!where) return { id, kind, text: t.replace(/^\{/, `{${inner},`) };
      return { id, kind, text: t.replace(/^\{/, `{"${where}": {${inner}},`) };
    }
    case 'dataset-switch':
      setOwn(o, 'dataset', r.pick([{ name: 'idx' }, { name: 'cifar10', path: '' }, { name: 'image-folder', path: 7 }, { name: 'image-folder', path: 'x', size: 4 }, { path: 'x' }]));
      return { id, kind, text: text(o) };
    case 'split-padv':
      setOwn(o, 'split', badValue(r));
      if (r.chance(0.5)) setOwn(o, 'pAdv', badValue(r));
      return { id, kind, text: text(o) };
    default:
      throw new Error(kind);
  }
}

export function generateCases(count: number, seed: number): FuzzCase[] {
  return Array.from({ length: count }, (_, i) => generateCase(i, seed));
}

const FIELD_RE = /^(\(root\)|\(file\)|[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*|\[\d+\])*)$/;
/** Words that make a message say what to do, not only what is wrong. */
const FIX_RE = /\b(must|use|valid keys|needs?|fix|set|like|pick|should|expected)\b/i;

export type Outcome = { ok: true; config: RunConfig } | { ok: false; error: ConfigError };

/** Runs one case through the loader; returns the outcome or throws an AssertionError describing what went wrong. */
export function checkCase(c: FuzzCase): Outcome {
  const t0 = Date.now();
  let outcome: Outcome;
  try {
    outcome = { ok: true, config: parseConfigText(c.text, 'fuzz.advprop.json') };
  } catch (e) {
    if (!(e instanceof ConfigError)) {
      assert.fail(`case ${c.id} (${c.kind}) threw ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)} — only ConfigError may escape; text starts ${JSON.stringify(c.text.slice(0, 200))}`);
    }
    outcome = { ok: false, error: e };
  }
  const ms = Date.now() - t0;
  assert.ok(ms < 2000, `case ${c.id} (${c.kind}) took ${ms} ms`);
  if (outcome.ok) {
    // A resolved config is a fixed point: config.json records it and --resume resolves it again.
    assert.deepEqual(resolveConfig(JSON.parse(JSON.stringify(outcome.config))), outcome.config, `case ${c.id}: resolved config does not re-resolve to itself`);
    for (const [k, v] of Object.entries(outcome.config)) {
      if (typeof v === 'number') assert.ok(Number.isFinite(v), `case ${c.id}: ${k} resolved to ${v}`);
    }
    assert.equal(Object.getPrototypeOf(outcome.config), Object.prototype, `case ${c.id}: resolved config has a foreign prototype`);
  } else {
    const e = outcome.error;
    const where = `case ${c.id} (${c.kind}): ${JSON.stringify(e.message.slice(0, 300))}`;
    assert.equal(typeof e.field, 'string', where);
    assert.ok(e.field.length > 0, `${where}: empty field`);
    assert.ok(e.message.startsWith(`${e.field}: `), `${where}: message does not start with the field`);
    if (!/unknown key/.test(e.message)) assert.match(e.field, FIELD_RE, `${where}: field is not a config path`);
    assert.match(e.message, FIX_RE, `${where}: message does not say how to fix it`);
    assert.ok(!/[\r\n]/.test(e.message), `${where}: message spans several lines`);
    assert.ok(e.message.length <= 600, `${where}: message is ${e.message.length} characters long (echoes the input?)`);
  }
  return outcome;
}

function prototypeFingerprint(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','))
    .join('|');
}

describe('reliability: config fuzzing (parseConfigText / resolveConfig)', function () {
  this.timeout(120000);
  const SEED = Number(process.env.FUZZ_SEED ?? 20250107);
  const COUNT = 1500;

  it(`${COUNT} generated configs: valid config or ConfigError naming a field with a fix; nothing else escapes (seed ${SEED})`, () => {
    const before = prototypeFingerprint();
    const cases = generateCases(COUNT, SEED);
    const failures: string[] = [];
    let rejected = 0;
    const kinds = new Map<string, number>();
    for (const c of cases) {
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      try {
        if (!checkCase(c).ok) rejected++;
      } catch (e) {
        failures.push((e as Error).message.split('\n')[0]);
      }
      assert.equal(({} as Obj).polluted, undefined, `case ${c.id} (${c.kind}) polluted Object.prototype`);
    }
    assert.equal(prototypeFingerprint(), before, 'a built-in prototype gained or lost a property');
    if (failures.length) {
      const uniq = [...new Set(failures.map((f) => f.replace(/^case \d+/, 'case')))];
      assert.fail(`${failures.length} of ${COUNT} cases misbehaved (${uniq.length} distinct):\n  ${failures.slice(0, 12).join('\n  ')}`);
    }
    assert.ok(rejected >= 1000, `only ${rejected} of ${COUNT} cases were invalid; the generator should mostly produce invalid configs`);
    assert.ok(kinds.size >= 18, `only ${kinds.size} kinds generated`);
  });

  it('prototype-pollution keys are refused as unknown keys at every level and never reach Object.prototype', () => {
    for (const k of ['__proto__', 'constructor', 'prototype']) {
      for (const where of ['', ...SECTIONS]) {
        const inner = `"${k}": {"polluted": true}`;
        const text = where ? `{"${where}": {${inner}}}` : `{${inner}}`;
        assert.throws(() => parseConfigText(text), (e: unknown) => e instanceof ConfigError && e.field === (where ? `${where}.${k}` : k) && /unknown key/.test(e.message), text);
        assert.equal(({} as Obj).polluted, undefined);
      }
    }
  });

  it('a config with comments and a byte-order mark (what Windows editors save) is read, or refused with a message that says what is wrong', () => {
    const text = `\uFEFF// made on Windows\n${JSON.stringify(TINY_CONFIG)}`;
    try {
      parseConfigText(text, 'win.advprop.json');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, /BOM|byte.order mark|U\+FEFF|encoding/i, `a BOM-prefixed file is refused as a JSON syntax error without saying why: ${e.message}`);
    }
  });

  it('a mutated-but-valid config resolves to the same config through text and through the object', () => {
    const text = `// c\n{ /* x */ "lr": 0.05, "model": {"width": 8}, "dataset": {"name": "fashion-mnist-subset", "trainLimit": 10}}`;
    const a = parseConfigText(text);
    const b = resolveConfig({ lr: 0.05, model: { width: 8 }, dataset: { name: 'fashion-mnist-subset', trainLimit: 10 } });
    assert.deepEqual(a, b);
  });
});

describe('reliability: invalid configs through the real CLI', function () {
  let tmp: string | undefined;
  before(function () {
    requireCli(this);
  });
  afterEach(() => rmDir(tmp));

  it('≥ 30 rejected configs: exit 2, one line "error: <field>: …", no run folder, nothing written outside the temp folder', async function () {
    this.timeout(180000);
    const cases = generateCases(1500, 20250107);
    // One of each kind first (the awkward ones are in there), then spread over the rest.
    const rejected = cases
      .map((c) => ({ c, o: (() => {
        try {
          return checkCase(c);
        } catch {
          return undefined;
        }
      })() }))
      .filter((x): x is { c: FuzzCase; o: { ok: false; error: ConfigError } } => !!x.o && !x.o.ok);
    const picked: { c: FuzzCase; o: { ok: false; error: ConfigError } }[] = [];
    const seen = new Set<string>();
    for (const x of rejected) if (!seen.has(x.c.kind)) (seen.add(x.c.kind), picked.push(x));
    for (let i = 0; picked.length < 36 && i < rejected.length; i += 37) if (!picked.includes(rejected[i])) picked.push(rejected[i]);
    // A key with a newline in it: the error must still be one line.
    const nl = { c: { id: -1, kind: 'newline-key', text: JSON.stringify({ ...TINY_CONFIG, 'bad\nkey': 1 }) }, o: { ok: false as const, error: new ConfigError('bad\nkey', '') } };
    picked.push(nl);
    assert.ok(picked.length >= 30, `only ${picked.length} cases picked`);

    tmp = tmpDir('cli-fuzz');
    const repoBefore = fs.readdirSync(path.resolve(__dirname, '../../../..')).sort();
    const problems: string[] = [];
    const runOne = async ({ c, o }: (typeof picked)[number], i: number): Promise<void> => {
      const dir = path.join(tmp!, `case-${i}`);
      const cwd = path.join(dir, 'cwd');
      fs.mkdirSync(cwd, { recursive: true });
      const file = path.join(dir, 'fuzz.advprop.json');
      fs.writeFileSync(file, c.text);
      const runDir = path.join(dir, 'run');
      const res = await runCli(['train', '--config', file, '--run-dir', runDir], { cwd, timeoutMs: 60000 });
      const where = `case ${c.id} (${c.kind})`;
      const lines = res.stderr.split('\n').filter((l) => l.length > 0);
      if (res.code !== 2) problems.push(`${where}: exit ${res.code} (signal ${res.signal}), stderr ${JSON.stringify(res.stderr.slice(0, 300))}`);
      if (lines.length !== 1) problems.push(`${where}: stderr has ${lines.length} lines: ${JSON.stringify(res.stderr.slice(0, 300))}`);
      const m = /^error: (.+?): /.exec(lines[0] ?? '');
      if (!m) problems.push(`${where}: stderr does not start with "error: <field>: ": ${JSON.stringify(res.stderr.slice(0, 200))}`);
      else if (c.kind !== 'newline-key' && m[1] !== o.error.field) problems.push(`${where}: CLI names ${m[1]}, the loader ${o.error.field}`);
      if (fs.existsSync(runDir)) problems.push(`${where}: the run folder was created`);
      const stray = listTree(dir).filter((f) => f !== 'cwd' && f !== 'fuzz.advprop.json');
      if (stray.length) problems.push(`${where}: wrote ${stray.join(', ')}`);
      if (res.stdout.trim() !== '') problems.push(`${where}: printed to stdout: ${JSON.stringify(res.stdout.slice(0, 200))}`);
    };
    // Two at a time (two cores).
    for (let i = 0; i < picked.length; i += 2) await Promise.all(picked.slice(i, i + 2).map((x, j) => runOne(x, i + j)));
    assert.deepEqual(fs.readdirSync(path.resolve(__dirname, '../../../..')).sort(), repoBefore, 'the repository root changed');
    assert.deepEqual(problems, [], `${problems.length} problems over ${picked.length} CLI runs`);
  });
});
