// Budget calculator: the webview computes; the host lists runs and reports a run's passes.

import * as vscode from 'vscode';
import { BUDGET_VIEW_TYPE, validateBudgetMessage, type BudgetFromWebview, type BudgetRunInfo, type BudgetToWebview } from '../../shared/protocol/budget';
import { budgetProgress, lastStep, plannedPasses } from '../../shared/protocol/dashboardModel';
import { FINAL_STATES } from '../../shared/runFormat';
import { PanelBase, type PanelHost, webviewOptions } from './basePanel';
import { newestFirst } from './runPick';
import type { RunSnapshot } from './types';

export const BUDGET_TITLE = 'Fast AdvProp: Budget Calculator';

export function budgetRunInfo(snap: RunSnapshot): BudgetRunInfo | undefined {
  const config = snap.config?.config;
  if (!config) return undefined;
  const b = budgetProgress(snap.config, snap.results, snap.metrics);
  return {
    runDir: snap.runDir,
    name: snap.name,
    config,
    schedule: snap.config?.schedule,
    batch: snap.config?.batch,
    trainImages: snap.config?.dataset?.train,
    plannedPasses: plannedPasses(snap.config, snap.results),
    measured: b.spent,
    stepsDone: snap.results?.steps ?? lastStep(snap.metrics)?.step ?? 0,
    finished: snap.status ? FINAL_STATES.includes(snap.status.state) : snap.results !== undefined,
  };
}

export class BudgetPanel extends PanelBase<BudgetFromWebview, BudgetToWebview> {
  private ready = false;

  constructor(panel: vscode.WebviewPanel, host: PanelHost, private runDir: string | undefined) {
    super(panel, host, 'budget', validateBudgetMessage);
    this.disposables.push(host.services.runs.onDidChange((dir) => {
      if (this.ready && dir === this.runDir) this.post({ type: 'run', selected: this.selected() });
    }));
  }

  select(runDir: string | undefined): void {
    this.runDir = runDir;
    if (this.ready) this.sendSnapshot();
  }

  private selected(): BudgetRunInfo | undefined {
    const snap = this.runDir ? this.host.services.runs.get(this.runDir) : undefined;
    return snap ? budgetRunInfo(snap) : undefined;
  }

  private sendSnapshot(): void {
    const runs = newestFirst(this.host.services.runs.list()).filter((r) => r.config).map((r) => ({ runDir: r.runDir, name: r.name }));
    this.post({ type: 'snapshot', runs, selected: this.selected() });
  }

  protected handle(msg: BudgetFromWebview): void {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        return;
      case 'selectRun':
        if (msg.runDir && !this.host.services.runs.get(msg.runDir)) throw new Error('that run is no longer in the runs folder');
        this.runDir = msg.runDir || undefined;
        this.post({ type: 'run', selected: this.selected() });
        return;
      default: {
        const never: never = msg;
        this.host.log(`budget: unhandled message ${JSON.stringify(never)}`);
      }
    }
  }
}

export function createBudgetPanel(host: PanelHost): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(BUDGET_VIEW_TYPE, BUDGET_TITLE, vscode.ViewColumn.Active, webviewOptions(host.extensionUri));
}
