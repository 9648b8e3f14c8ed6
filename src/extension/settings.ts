// The fastAdvprop.* settings, read fresh each time so a change applies to the next start.
import * as vscode from 'vscode';
import type { BackendName } from '../shared/config';
import { resolveRunsFolder } from './paths';

export interface Settings {
  runsFolder: string;
  backend: BackendName;
  workers: number;
  maxConcurrentRuns: number;
  autoEvaluate: boolean;
}

export function readSettings(context: vscode.ExtensionContext): Settings {
  const c = vscode.workspace.getConfiguration('fastAdvprop');
  return {
    runsFolder: resolveRunsFolder(c.get<string>('runsFolder'), vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, context.globalStorageUri.fsPath),
    backend: c.get<BackendName>('backend', 'auto'),
    workers: Math.max(0, Math.floor(c.get<number>('workers', 0) || 0)),
    maxConcurrentRuns: Math.max(1, Math.floor(c.get<number>('maxConcurrentRuns', 1) || 1)),
    autoEvaluate: c.get<boolean>('autoEvaluate', false),
  };
}
