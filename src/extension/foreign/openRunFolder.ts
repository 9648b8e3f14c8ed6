// fastAdvprop.extraRunFolders and "Open Run Folder…": which folders beyond the runs folder the
// Runs view lists. Reading them is all that happens: the folders are never written, and a
// workspace cannot point the setting anywhere in Restricted Mode (a restricted configuration).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FolderRunsModel } from '../runsModel';
import { extraRunDirs, resolveExtraFolder } from './foreignRunReader';

const SETTING = 'extraRunFolders';

function configuredFolders(): string[] {
  const raw = vscode.workspace.getConfiguration('fastAdvprop').get<unknown>(SETTING, []);
  const list = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return list.map((p) => resolveExtraFolder(p, ws)).filter((p): p is string => p !== undefined);
}

export function registerForeignRuns(context: vscode.ExtensionContext, runs: FolderRunsModel): void {
  /** Opened with the command in this window; the setting keeps them across windows. */
  const session: string[] = [];
  const apply = () => runs.setExtraFolders([...configuredFolders(), ...session]);
  apply();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`fastAdvprop.${SETTING}`)) apply();
    }),
    vscode.commands.registerCommand('fastAdvprop.openRunFolder', async (arg?: vscode.Uri | string) => {
      let folder = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
      if (!folder) {
        const picked = await vscode.window.showOpenDialog({
          canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Open Run Folder',
          title: 'A run folder (ours, the PyTorch reference\'s --checkpoint folder, timm\'s output, TensorBoard logs) or a folder of them',
        });
        folder = picked?.[0]?.fsPath;
      }
      if (!folder) return undefined;
      folder = path.resolve(folder);
      if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
        void vscode.window.showErrorMessage(`Fast AdvProp: ${folder} is not a folder; pick the folder that holds the run's files.`);
        return undefined;
      }
      const found = extraRunDirs([folder]);
      if (found.length === 0) {
        void vscode.window.showErrorMessage(`Fast AdvProp: no run in ${folder}: expected our run files (config.json, status.json), an event file (events.out.tfevents.*), the reference's log.txt, or timm's summary.csv, in it or in its sub-folders.`);
        return undefined;
      }
      if (!session.includes(folder)) session.push(folder);
      apply();
      if (found.length === 1) await vscode.commands.executeCommand('fastAdvprop.openDashboard', found[0]);
      const interactive = !(typeof arg === 'string');
      if (interactive && !configuredFolders().includes(folder)) {
        void vscode.window.showInformationMessage(`Fast AdvProp: ${found.length} run${found.length === 1 ? '' : 's'} from ${folder} listed for this window.`, 'Keep in Settings').then(async (choice) => {
          if (choice !== 'Keep in Settings') return;
          const c = vscode.workspace.getConfiguration('fastAdvprop');
          const now = c.inspect<string[]>(SETTING)?.globalValue ?? [];
          await c.update(SETTING, [...now, folder], vscode.ConfigurationTarget.Global);
        });
      }
      return found;
    }),
  );
}
