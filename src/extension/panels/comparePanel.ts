// Compare Runs: one panel for the current selection of runs.

import * as vscode from 'vscode';
import { COMPARE_VIEW_TYPE, validateCompareMessage, type CompareFromWebview, type CompareToWebview } from '../../shared/protocol/compare';
import { buildResultsTable, type CompareRunData, type ExportOptions, type ResultsTable } from '../../shared/protocol/resultsTable';
import { PanelBase, type PanelHost, webviewOptions } from './basePanel';
import { deliverTable } from './exportTable';
import { compareData } from './runData';
import { pickRuns } from './runPick';

export const COMPARE_TITLE = 'Fast AdvProp: Compare Runs';

export class ComparePanel extends PanelBase<CompareFromWebview, CompareToWebview> {
  private ready = false;

  constructor(panel: vscode.WebviewPanel, host: PanelHost, private runDirs: string[], private baseline: string) {
    super(panel, host, 'compare', validateCompareMessage);
    this.disposables.push(host.services.runs.onDidChange((dir) => {
      if (this.ready && this.runDirs.includes(dir)) this.sendSnapshot();
    }));
  }

  setRuns(runDirs: string[]): void {
    this.runDirs = [...new Set(runDirs)];
    if (!this.runDirs.includes(this.baseline)) this.baseline = this.runDirs[0] ?? '';
    if (this.ready) this.sendSnapshot();
  }

  get selection(): { runDirs: string[]; baseline: string } {
    return { runDirs: [...this.runDirs], baseline: this.baseline };
  }

  data(): { runs: CompareRunData[]; missing: string[] } {
    const runs: CompareRunData[] = [];
    const missing: string[] = [];
    for (const dir of this.runDirs) {
      const snap = this.host.services.runs.get(dir);
      if (snap) runs.push(compareData(snap));
      else missing.push(dir);
    }
    return { runs, missing };
  }

  table(): ResultsTable {
    return buildResultsTable(this.data().runs);
  }

  private sendSnapshot(): void {
    const { runs, missing } = this.data();
    this.post({ type: 'snapshot', runs, baseline: this.baseline, missing });
  }

  protected async handle(msg: CompareFromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        return;
      case 'setBaseline':
        if (!this.runDirs.includes(msg.runDir)) throw new Error('the baseline must be one of the compared runs');
        this.baseline = msg.runDir;
        this.sendSnapshot();
        return;
      case 'removeRun':
        if (this.runDirs.length <= 2) throw new Error('a comparison needs at least two runs; add another before removing this one');
        this.setRuns(this.runDirs.filter((d) => d !== msg.runDir));
        return;
      case 'addRuns': {
        const chosen = await pickRuns(this.host.services.runs, 'Compare Runs', this.runDirs);
        if (chosen) this.setRuns(chosen);
        return;
      }
      case 'openDashboard':
        if (!this.runDirs.includes(msg.runDir)) throw new Error('not one of the compared runs');
        this.host.commands.openDashboard(msg.runDir);
        return;
      case 'export': {
        const opts: ExportOptions = { baseline: this.baseline, sortKey: msg.sortKey, sortDir: msg.sortDir };
        await deliverTable(this.table(), msg.format, msg.destination, opts);
        return;
      }
      default: {
        const never: never = msg;
        this.host.log(`compare: unhandled message ${JSON.stringify(never)}`);
      }
    }
  }
}

export function createComparePanel(host: PanelHost): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, COMPARE_TITLE, vscode.ViewColumn.Active, webviewOptions(host.extensionUri));
}
