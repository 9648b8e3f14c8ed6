// Sends a formatted results table to the clipboard or a file the user picks.

import * as vscode from 'vscode';
import { FORMAT_EXTENSION, formatTable, type ExportFormat, type ExportOptions, type ResultsTable } from '../../shared/protocol/resultsTable';

export async function deliverTable(table: ResultsTable, format: ExportFormat, destination: 'clipboard' | 'file', opts: ExportOptions): Promise<string | undefined> {
  if (table.rows.length === 0) throw new Error('no runs to export');
  const text = formatTable(format, table, opts);
  if (destination === 'clipboard') {
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage(`Fast AdvProp: results table (${format}, ${table.rows.length} runs) copied to the clipboard.`);
    return text;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, `results.${FORMAT_EXTENSION[format]}`) : undefined,
    filters: { [format]: [FORMAT_EXTENSION[format]] },
    title: 'Export results table',
  });
  if (!uri) return undefined;
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  void vscode.window.showInformationMessage(`Fast AdvProp: results table written to ${uri.fsPath}.`);
  return text;
}

export async function pickFormat(): Promise<{ format: ExportFormat; destination: 'clipboard' | 'file' } | undefined> {
  const formats: { label: string; format: ExportFormat }[] = [
    { label: 'Markdown', format: 'markdown' }, { label: 'CSV', format: 'csv' }, { label: 'LaTeX (booktabs)', format: 'latex' },
  ];
  const f = await vscode.window.showQuickPick(formats, { title: 'Export results table: format' });
  if (!f) return undefined;
  const d = await vscode.window.showQuickPick([
    { label: 'Copy to clipboard', destination: 'clipboard' as const }, { label: 'Save to a file…', destination: 'file' as const },
  ], { title: 'Export results table: destination' });
  return d ? { format: f.format, destination: d.destination } : undefined;
}
