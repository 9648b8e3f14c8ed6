// Issue #12: a queued run found in a folder that is not trusted waits; when the user trusts the
// folder (the Workspace Trust editor, as a person does it) it starts as it would have. The
// integration suite can only prove the first half: an extension cannot grant trust, a person can.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TINY_CONFIG, tinyWorkspaceFiles } from '../../runner/workspace';
import type { Scenario } from '../scenarios';
import { RUNS_FOLDER, runFolders, runState } from './helpers';

const QUEUED = 'queued-before-trust';

function queuedRunFiles(): Record<string, string> {
  const now = new Date().toISOString();
  const dir = `${RUNS_FOLDER}/${QUEUED}`;
  return {
    ...tinyWorkspaceFiles(),
    [`${dir}/status.json`]: JSON.stringify({ schema: 1, state: 'queued', pid: null, startedAt: null, updatedAt: now, progress: { epoch: 0, epochs: 1, step: 0, totalSteps: 0 } }) + '\n',
    [`${dir}/queue.json`]: JSON.stringify({ schema: 1, kind: 'train', queuedAt: now, config: TINY_CONFIG, source: 'a clone of someone else\'s repository' }) + '\n',
  };
}

export const trustGrantScenario: Scenario = {
  name: 'trust-grant',
  description: 'Restricted Mode: a queued run in the cloned folder waits; "Trust" in the Workspace Trust editor starts it and it completes',
  untrusted: true,
  workspaceFiles: queuedRunFiles(),
  async run(d) {
    const runDir = path.join(d.workspace, RUNS_FOLDER, QUEUED);
    // The extension activates on the workspace's *.advprop.json; the Runs view lists the run.
    await d.command('Fast AdvProp: Refresh Runs');
    await d.sleep(8000);
    await d.check('untrusted: the queued run has not started', () => {
      const state = runState(runDir);
      const written = fs.readdirSync(runDir).sort().join(', ');
      if (state !== 'queued' || written !== 'queue.json, status.json') throw new Error(`state ${state}, files ${written}`);
      return `state ${state}, files ${written}`;
    });
    await d.command('Workspaces: Manage Workspace Trust');
    await d.step('click "Trust" in the Workspace Trust editor', async () => {
      const button = d.page.locator('.workspace-trust-editor .workspace-trust-buttons-row .monaco-button', { hasText: /^Trust$/ }).first();
      await button.waitFor({ state: 'visible', timeout: 20_000 });
      await button.click();
      return '';
    });
    await d.check('trusted: the queued run starts and completes', () => d.poll(() => {
      const state = runState(runDir);
      if (state === 'failed' || state === 'stopped') throw new Error(`run ended as ${state}: ${fs.readFileSync(path.join(runDir, 'status.json'), 'utf8').slice(0, 800)}`);
      return state === 'completed' && fs.existsSync(path.join(runDir, 'results.json')) ? `completed, ${runFolders(d.workspace).length} run folder(s)` : undefined;
    }, 180_000, 'the queued run to complete after trust was granted', 1000));
    await d.screenshot('trust-granted-run-completed.png', { settleMs: 500 });
  },
};
