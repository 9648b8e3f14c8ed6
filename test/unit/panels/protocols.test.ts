import * as assert from 'node:assert/strict';
import { validateBudgetMessage, validateBudgetState } from '../../../src/shared/protocol/budget';
import { validateCompareMessage, validateCompareState } from '../../../src/shared/protocol/compare';
import { validateRobustnessMessage, validateRobustnessState } from '../../../src/shared/protocol/robustness';
import { malformed, safeShow, type Spec } from './fuzz';

function fuzz(name: string, validate: (raw: unknown) => unknown, spec: Spec): void {
  describe(`${name} protocol`, () => {
    it('accepts the valid messages', () => {
      for (const m of spec.valid) {
        const r = validate(m);
        assert.ok(!(r instanceof Error), `${safeShow(m)} rejected: ${(r as Error).message}`);
        assert.deepEqual(r, m);
      }
    });
    it('rejects 1,000+ malformed messages without throwing', () => {
      const msgs = malformed(spec, 1500, name.length);
      for (const m of msgs) {
        let r: unknown;
        assert.doesNotThrow(() => { r = validate(m); });
        if (!(r instanceof Error)) assert.fail(`accepted ${safeShow(m)}`);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });
}

fuzz('compare', validateCompareMessage, {
  valid: [
    { type: 'ready' }, { type: 'addRuns' },
    { type: 'setBaseline', runDir: '/runs/a' }, { type: 'removeRun', runDir: '/runs/b' }, { type: 'openDashboard', runDir: 'C:\\runs\\c' },
    { type: 'export', format: 'markdown', destination: 'clipboard' },
    { type: 'export', format: 'latex', destination: 'file', sortKey: 'clean', sortDir: 'asc' },
    { type: 'export', format: 'csv', destination: 'clipboard', sortKey: 'c:fog', sortDir: 'desc' },
  ],
  optional: ['sortKey', 'sortDir'],
  lenient: { sortKey: (v) => v === undefined, sortDir: (v) => v === undefined },
});

fuzz('budget', validateBudgetMessage, {
  valid: [{ type: 'ready' }, { type: 'selectRun', runDir: '/runs/a' }, { type: 'selectRun', runDir: '' }],
  // '' is "no run selected" on purpose.
  lenient: { runDir: (v) => v === '' },
});

fuzz('robustness', validateRobustnessMessage, {
  valid: [{ type: 'ready' }, { type: 'openDashboard' }, { type: 'setBaseline', runDir: '/runs/b' }, { type: 'setBaseline', runDir: '' }],
  lenient: { runDir: (v) => v === '' },
});

describe('panel states restored by the serializers', () => {
  it('compare: needs a list of run folders; baseline optional', () => {
    assert.deepEqual(validateCompareState({ runDirs: ['/a', '/b'], baseline: '/a', sortKey: 'x' }), { runDirs: ['/a', '/b'], baseline: '/a' });
    assert.deepEqual(validateCompareState({ runDirs: ['/a'] }), { runDirs: ['/a'] });
    for (const bad of [undefined, {}, { runDirs: [] }, { runDirs: '/a' }, { runDirs: [1] }, { runDirs: ['/a'], baseline: 3 }, { runDirs: Array(300).fill('/a') }]) {
      assert.ok(validateCompareState(bad) instanceof Error, safeShow(bad));
    }
  });
  it('budget: a run folder is optional; nothing saved is fine', () => {
    assert.deepEqual(validateBudgetState(undefined), {});
    assert.deepEqual(validateBudgetState({ inputs: { k: '1' } }), {});
    assert.deepEqual(validateBudgetState({ runDir: '/r' }), { runDir: '/r' });
    assert.ok(validateBudgetState({ runDir: 5 }) instanceof Error);
    assert.ok(validateBudgetState('x') instanceof Error);
  });
  it('robustness: run folder required, baseline optional', () => {
    assert.deepEqual(validateRobustnessState({ runDir: '/r', baseline: '/b' }), { runDir: '/r', baseline: '/b' });
    assert.deepEqual(validateRobustnessState({ runDir: '/r', baseline: '' }), { runDir: '/r' });
    assert.ok(validateRobustnessState({ baseline: '/b' }) instanceof Error);
    assert.ok(validateRobustnessState(JSON.parse('{"runDir":"/r","__proto__":{"x":1}}')) instanceof Error);
  });
});
