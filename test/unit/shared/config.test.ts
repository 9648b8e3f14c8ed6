import * as assert from 'node:assert/strict';
import {
  ConfigError, DEFAULT_CONFIG, configTextProblems, listConfigProblems, parseConfigText, resolveConfig, stripJsonComments,
} from '../../../src/shared/config';
import { parseMetricsLines, parseStatus } from '../../../src/shared/runFormat';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.field;
  }
  assert.fail('expected an error');
}

describe('run config', () => {
  it('an empty object resolves to the built-in default', () => {
    assert.deepEqual(resolveConfig({}), DEFAULT_CONFIG);
  });

  it('merges nested sections over the defaults', () => {
    const c = resolveConfig({ attack: { steps: 3 }, model: { arch: 'resnet20' } });
    assert.equal(c.attack.steps, 3);
    assert.equal(c.attack.epsilon, DEFAULT_CONFIG.attack.epsilon);
    assert.equal(c.model.arch, 'resnet20');
    assert.equal(c.model.width, DEFAULT_CONFIG.model.width);
  });

  it('pAdv without a split replaces the default split', () => {
    const c = resolveConfig({ pAdv: 0.5 });
    assert.equal(c.split, undefined);
    assert.equal(c.pAdv, 0.5);
  });

  const bad: [unknown, string][] = [
    [{ pAdv: 1 }, 'pAdv'],
    [{ pAdv: -0.1 }, 'pAdv'],
    [{ attack: { steps: 0 } }, 'attack.steps'],
    [{ attack: { epsilon: -1 } }, 'attack.epsilon'],
    [{ method: 'sgd' }, 'method'],
    [{ model: { arch: 'vgg' } }, 'model.arch'],
    [{ split: '4-1' }, 'split'],
    [{ split: '0:1' }, 'split'],
    [{ dataset: { name: 'idx' } }, 'dataset.path'],
    [{ milestones: [4, 2] }, 'milestones[1]'],
    [{ batchSize: 63 }, 'batchSize'],
    [{ bnGroups: 1 }, 'bnGroups'],
    [{ attack: { randomStart: 'sometimes' } }, 'attack.randomStart'],
    [{ epochs: 'ten' }, 'epochs'],
    [{ lr: 0 }, 'lr'],
    [{ nmae: 'typo' }, 'nmae'],
    [{ attack: { stepsize: 1 } }, 'attack.stepsize'],
    [{ attack: { targeted: true, target: 'label+1' } }, 'attack.target'],
    // a target without a targeted attack would be silently ignored
    [{ attack: { target: 'next' } }, 'attack.target'],
    [{ name: '../escape' }, 'name'],
    [[], '(root)'],
  ];
  for (const [input, field] of bad) {
    it(`rejects ${JSON.stringify(input)} naming ${field}`, () => {
      assert.equal(fieldOf(() => resolveConfig(input)), field);
    });
  }

  it('attack.target is left out unless given, so existing configs keep their hash', () => {
    assert.equal('target' in resolveConfig({ attack: { targeted: true } }).attack, false);
    assert.equal(resolveConfig({ attack: { targeted: true, target: 'next' } }).attack.target, 'next');
  });

  it('error messages say how to fix the value', () => {
    try {
      resolveConfig({ pAdv: 1.5 });
      assert.fail('no error');
    } catch (e) {
      assert.match((e as Error).message, /pAdv: must be < 1, got 1\.5/);
    }
  });

  it('accepts comments and reports JSON syntax errors with a line number', () => {
    const c = parseConfigText('{\n  // clean:adv\n  "split": "2:1", /* three */ "attack": {"steps": 3}\n}');
    assert.equal(c.split, '2:1');
    assert.equal(c.attack.steps, 3);
    assert.equal(fieldOf(() => parseConfigText('{\n "split": "2:1",\n}')), '(file)');
    assert.throws(() => parseConfigText('{\n "split": "2:1",\n}', 'x.advprop.json'), /x\.advprop\.json is not valid JSON at line 3/);
  });

  it('keeps comment markers that sit inside strings', () => {
    assert.equal(stripJsonComments('{"a": "http://x/*y*/"}'), '{"a": "http://x/*y*/"}');
  });
});

describe('run-folder readers', () => {
  it('drop a torn last metrics line and report a corrupt middle one', () => {
    const text = '{"v":1,"kind":"event","t":"x","step":0,"event":"a","message":""}\nnot json\n{"v":1,"kind":"event","t":"x","step":1,"event":"b","message":""}\n{"v":1,"ki';
    const { records, skipped } = parseMetricsLines(text);
    assert.equal(records.length, 2);
    assert.deepEqual(skipped.map((s) => s.line), [2]);
  });

  it('return undefined for an unreadable status', () => {
    assert.equal(parseStatus('{"sta'), undefined);
    assert.equal(parseStatus('null'), undefined);
    assert.equal(parseStatus('{"state":"running"}')?.state, 'running');
  });
});

describe('listing every config problem (issue #16)', () => {
  it('names each bad field, not only the first', () => {
    const problems = listConfigProblems({ split: '4-1', epochs: -3, attack: { steps: 0 }, bogus: 1 });
    assert.deepEqual(problems.map((p) => p.field), ['bogus', 'split', 'attack.steps', 'epochs']);
  });

  it('is empty for a good config, falls back to the default after a problem, and stops where nothing can be dropped', () => {
    assert.deepEqual(listConfigProblems({ epochs: 3 }), []);
    // bnGroups 1 with shuffle BN on: once dropped, the default 2 satisfies batchSize too.
    assert.deepEqual(listConfigProblems({ bnGroups: 1, shuffleBN: true, epochs: 0 }).map((p) => p.field), ['epochs', 'bnGroups']);
    assert.deepEqual(listConfigProblems(42).map((p) => p.field), ['(root)']);
  });

  it('reports a JSON syntax error as the one problem of a file', () => {
    const problems = configTextProblems('{ "epochs": 3, }', 'x.advprop.json');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].field, '(file)');
  });
});
