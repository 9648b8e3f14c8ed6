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
