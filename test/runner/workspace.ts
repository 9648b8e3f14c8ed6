// The throwaway workspace every VS Code test run opens: one tiny training config so a full
// run (spawn engine -> train 3 steps -> completed) takes seconds, not minutes.
export const TINY_CONFIG_FILE = 'tiny.advprop.json';

export const TINY_CONFIG = {
  method: 'fast-advprop',
  model: { arch: 'resnet8', width: 4 },
  maxSteps: 3,
  batchSize: 16,
  dataset: { name: 'fashion-mnist-subset', trainLimit: 200, testLimit: 100 },
};

export function tinyWorkspaceFiles(): Record<string, string> {
  return {
    [TINY_CONFIG_FILE]: JSON.stringify(TINY_CONFIG, null, 2) + '\n',
    // Workspace-level too, in case a test opens the workspace with other user settings.
    '.vscode/settings.json': JSON.stringify({ 'files.autoSave': 'off' }, null, 2) + '\n',
  };
}

// Untrusted-workspace mode (FAST_ADVPROP_UNTRUSTED=1): only the suite with this title runs (the
// launcher passes it as the mocha grep), and test/integration/untrusted.test.ts defines it only in
// that mode. A plain string without regexp characters, since mocha turns the grep into a RegExp.
export const UNTRUSTED_SUITE = 'Fast AdvProp in an untrusted workspace';
/** A workspace setting the extension must ignore while the folder is untrusted (restrictedConfigurations). */
export const UNTRUSTED_RUNS_FOLDER_SETTING = 'runs-from-untrusted-settings';

/**
 * A run folder shipped with the untrusted workspace, as an attacker would: `queued` status plus a
 * queue.json train job, present before the extension activates (issue #12: the queue drain used to
 * start it in Restricted Mode).
 */
export const FORGED_QUEUED_RUN = 'forged-queued';

/** A cloned sweep folder whose one point is queued (queue.json): the job manager adopts sweep points too, never in Restricted Mode. */
export const FORGED_QUEUED_SWEEP = 'forged-queued-sweep';

/** A folder of another trainer's run that the untrusted workspace's fastAdvprop.extraRunFolders names: it must not be listed. */
export const UNTRUSTED_EXTRA_FOLDER = 'extra-from-untrusted-settings';

export function untrustedWorkspaceFiles(): Record<string, string> {
  const now = new Date().toISOString();
  const forged = `.advprop-runs/${FORGED_QUEUED_RUN}`;
  return {
    ...tinyWorkspaceFiles(),
    '.vscode/settings.json': JSON.stringify({
      'files.autoSave': 'off', 'fastAdvprop.runsFolder': UNTRUSTED_RUNS_FOLDER_SETTING, 'fastAdvprop.extraRunFolders': [UNTRUSTED_EXTRA_FOLDER],
    }, null, 2) + '\n',
    // The reference's Logger output alone is a foreign run (docs/foreign-runs.md).
    [`${UNTRUSTED_EXTRA_FOLDER}/reference-run/log.txt`]: 'Learning Rate\tTrain Loss\tValid Loss\tTrain Acc.\tValid Acc.\t\n0.100000\t6.500000\t5.900000\t1.200000\t3.400000\t\n',
    [`${forged}/status.json`]: JSON.stringify({ schema: 1, state: 'queued', pid: null, startedAt: null, updatedAt: now, progress: { epoch: 0, epochs: 1, step: 0, totalSteps: 0 } }) + '\n',
    [`${forged}/queue.json`]: JSON.stringify({ schema: 1, kind: 'train', queuedAt: now, config: TINY_CONFIG, source: 'forged' }) + '\n',
    [`.advprop-runs/${FORGED_QUEUED_SWEEP}/sweep.json`]: JSON.stringify({
      schema: 1, kind: 'fast-advprop-sweep', name: 'forged', createdAt: now, executor: 'local', parallel: 1,
      points: [{ index: 0, name: '0-p', group: 'g', seed: 0, overrides: {}, runDir: 'runs/0-p', config: 'configs/0-p.advprop.json' }],
    }) + '\n',
    [`.advprop-runs/${FORGED_QUEUED_SWEEP}/configs/0-p.advprop.json`]: JSON.stringify(TINY_CONFIG) + '\n',
    [`.advprop-runs/${FORGED_QUEUED_SWEEP}/runs/0-p/status.json`]: JSON.stringify({ schema: 1, state: 'queued', pid: null, startedAt: null, updatedAt: now, progress: { epoch: 0, epochs: 1, step: 0, totalSteps: 0 } }) + '\n',
    [`.advprop-runs/${FORGED_QUEUED_SWEEP}/runs/0-p/queue.json`]: JSON.stringify({ schema: 1, kind: 'train', queuedAt: now, config: TINY_CONFIG, source: 'forged sweep' }) + '\n',
  };
}
