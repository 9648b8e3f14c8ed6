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
