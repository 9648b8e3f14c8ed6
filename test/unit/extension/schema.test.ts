// media/advprop.schema.json is hand-maintained; these checks keep it in step with src/shared/config.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ADVPROP_ATTACK_BN, ADVPROP_GRADIENT_DIVISORS, ADVPROP_REFERENCE, ADVPROP_TARGETS, BACKENDS, ConfigError, DATASET_NAMES, DEFAULT_CONFIG, METHODS, MODEL_ARCHS,
  RANDOM_START_MODES, parseConfigText, resolveConfig,
} from '../../../src/shared/config';
import { runConfigTemplate } from '../../../src/extension/configTemplate';

const repo = path.resolve(__dirname, '../../../..');
interface Prop { type?: string; enum?: string[]; default?: unknown; description?: string; properties?: Record<string, Prop> }
const schema = JSON.parse(fs.readFileSync(path.join(repo, 'media/advprop.schema.json'), 'utf8')) as Prop;
const SECTIONS = ['attack', 'model', 'dataset', 'augment', 'leak'] as const;

/** Whether resolveConfig knows the key (a wrong-typed value fails on the value, not "unknown key"). */
function acceptsKey(section: string, key: string): boolean {
  const input = section ? { [section]: { [key]: Symbol('x') } } : { [key]: Symbol('x') };
  try {
    resolveConfig(input);
    return true;
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return !/unknown key/.test(e.message);
  }
}

describe('run config JSON schema', () => {
  it('has a property with a description for every key of DEFAULT_CONFIG, nested ones included', () => {
    for (const [k, v] of Object.entries(DEFAULT_CONFIG)) {
      const p = schema.properties![k];
      assert.ok(p, `schema lacks "${k}"`);
      assert.ok(p.description, `"${k}" has no description`);
      if ((SECTIONS as readonly string[]).includes(k)) {
        for (const sub of Object.keys(v as object)) {
          assert.ok(p.properties?.[sub]?.description, `schema lacks "${k}.${sub}" or its description`);
        }
      }
    }
  });

  it('has no property the config parser would reject as unknown', () => {
    for (const k of Object.keys(schema.properties!)) {
      if (k === '$schema') continue;
      assert.ok(acceptsKey('', k), `schema has "${k}" but resolveConfig does not know it`);
      for (const sub of Object.keys(schema.properties![k].properties ?? {})) {
        assert.ok(acceptsKey(k, sub), `schema has "${k}.${sub}" but resolveConfig does not know it`);
      }
    }
    // and the optional keys the parser knows are in the schema too
    for (const k of ['name', 'split', 'pAdv']) assert.ok(schema.properties![k], `schema lacks optional "${k}"`);
    for (const k of ['path', 'trainLimit', 'testLimit', 'size']) assert.ok(schema.properties!.dataset.properties![k], `schema lacks dataset.${k}`);
  });

  it('the advprop section (not in DEFAULT_CONFIG: method-specific) has the parser\'s enums and the reference defaults', () => {
    const p = schema.properties!.advprop.properties!;
    assert.deepEqual(p.attackBn.enum, [...ADVPROP_ATTACK_BN]);
    assert.deepEqual(p.target.enum, [...ADVPROP_TARGETS]);
    assert.deepEqual(p.gradientDivisor.enum, [...ADVPROP_GRADIENT_DIVISORS]);
    for (const [k, v] of Object.entries(ADVPROP_REFERENCE)) assert.equal(p[k].default, v, `advprop.${k}`);
  });

  it('defaults equal DEFAULT_CONFIG', () => {
    for (const [k, v] of Object.entries(DEFAULT_CONFIG)) {
      const p = schema.properties![k];
      if ((SECTIONS as readonly string[]).includes(k)) {
        for (const [sub, dv] of Object.entries(v as object)) assert.deepEqual(p.properties![sub].default, dv, `${k}.${sub}`);
      } else {
        assert.deepEqual(p.default, v, k);
      }
    }
  });

  it('enums equal the config module\'s lists', () => {
    assert.deepEqual(schema.properties!.method.enum, [...METHODS]);
    assert.deepEqual(schema.properties!.backend.enum, [...BACKENDS]);
    assert.deepEqual(schema.properties!.model.properties!.arch.enum, [...MODEL_ARCHS]);
    assert.deepEqual(schema.properties!.dataset.properties!.name.enum, [...DATASET_NAMES]);
    assert.deepEqual(schema.properties!.attack.properties!.randomStart.enum, [...RANDOM_START_MODES]);
  });

  it('every number has an upper and a lower bound in the schema, and the validator enforces exactly those bounds', () => {
    interface NumProp { type?: string; minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number; items?: NumProp; properties?: Record<string, NumProp> }
    const numbers: [string, NumProp][] = [];
    const walk = (p: NumProp, prefix: string): void => {
      for (const [k, v] of Object.entries(p.properties ?? {})) {
        if (v.type === 'number' || v.type === 'integer') numbers.push([prefix + k, v]);
        if (v.type === 'array' && v.items && (v.items.type === 'integer' || v.items.type === 'number')) numbers.push([`${prefix}${k}[0]`, v.items]);
        walk(v, `${prefix}${k}.`);
      }
    };
    walk(schema as NumProp, '');
    assert.ok(numbers.length >= 24, `only ${numbers.length} numeric fields found`);
    const input = (field: string, value: number): Record<string, unknown> => {
      const m = /^(\w+)\[0\]$/.exec(field);
      if (m) return { [m[1]]: [value] };
      const [a, b] = field.split('.');
      // One BN group and no shuffle BN, so that bnGroups and batchSize can reach their own bounds.
      const context = { shuffleBN: false, ...(field === 'bnGroups' ? {} : { bnGroups: 1 }) };
      return { ...context, ...(b === undefined ? { [a]: value } : { [a]: { [b]: value } }) };
    };
    const refusedOn = (field: string, value: number): string | undefined => {
      try {
        resolveConfig(input(field, value));
        return undefined;
      } catch (e) {
        assert.ok(e instanceof ConfigError, `${field} = ${value}: ${String(e)}`);
        return e.field;
      }
    };
    for (const [field, p] of numbers) {
      const hi = p.maximum ?? p.exclusiveMaximum;
      const lo = p.minimum ?? p.exclusiveMinimum;
      assert.ok(hi !== undefined && lo !== undefined, `${field} has no ${hi === undefined ? 'maximum' : 'minimum'} in the schema`);
      const step = p.type === 'integer' ? 1 : Math.max(Math.abs(hi) * 1e-9, 1e-9);
      if (p.maximum !== undefined) assert.equal(refusedOn(field, p.maximum), undefined, `${field} = its schema maximum ${p.maximum} is refused`);
      assert.equal(refusedOn(field, hi + step), field, `${field} = ${hi + step}, above the schema's bound, is not refused on ${field}`);
      if (p.minimum !== undefined) assert.equal(refusedOn(field, p.minimum), undefined, `${field} = its schema minimum ${p.minimum} is refused`);
      assert.equal(refusedOn(field, lo - step), field, `${field} = ${lo - step}, below the schema's bound, is not refused on ${field}`);
    }
  });

  it('package.json backend setting offers the same backends', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.configuration.properties['fastAdvprop.backend'].enum, [...BACKENDS]);
  });
});

describe('New Run Config template', () => {
  it('parses with the real parser, comments included, to the default config', () => {
    const text = runConfigTemplate('my-run');
    assert.match(text, /^\/\//, 'starts with an explanatory comment');
    // The schema comes from package.json's jsonValidation, not from a path into the install folder.
    assert.doesNotMatch(text, /\$schema/);
    assert.deepEqual(parseConfigText(text), { ...DEFAULT_CONFIG, name: 'my-run' });
  });
});
