// Dashboard for one run: a snapshot on `ready`, then new metrics records and header changes as
// the run model reports them.

import * as vscode from 'vscode';
import { DASHBOARD_VIEW_TYPE, validateDashboardMessage, type DashboardFromWebview, type DashboardRun, type DashboardToWebview } from '../../shared/protocol/dashboard';
import { leakFixConfig, planMetrics } from '../../shared/protocol/dashboardModel';
import { PanelBase, type PanelHost, webviewOptions } from './basePanel';
import type { RunSnapshot } from './types';

export function dashboardTitle(name: string): string {
  return `Fast AdvProp: ${name}`;
}

export function dashboardRun(snap: RunSnapshot): DashboardRun {
  const run: DashboardRun = {
    runDir: snap.runDir,
    name: snap.name,
    config: snap.config,
    status: snap.status,
    results: snap.results,
    alive: snap.alive,
    crashed: snap.crashed,
    hasRobustness: snap.robustness !== undefined && snap.robustness !== null,
  };
  if (snap.foreign) run.origin = snap.foreign.origin;
  return run;
}

export class DashboardPanel extends PanelBase<DashboardFromWebview, DashboardToWebview> {
  /** Metrics records the webview holds; -1 until it has asked for a snapshot. */
  private sent = -1;
  /** The records array the webview holds a copy of: a new one means records were superseded (a resume), so resend all. */
  private sentFrom: readonly unknown[] | undefined;
  private lastHeader = '';

  constructor(panel: vscode.WebviewPanel, host: PanelHost, readonly runDir: string) {
    super(panel, host, 'dashboard', validateDashboardMessage);
    this.disposables.push(host.services.runs.onDidChange((dir) => {
      if (dir === this.runDir) this.update();
    }));
  }

  protected handle(msg: DashboardFromWebview): Promise<void> | void {
    const runs = this.host.services.runs;
    switch (msg.type) {
      case 'ready':
        return this.sendSnapshot();
      case 'applyLeakFix':
        return this.applyLeakFix();
      case 'stopRun':
        // The webview shows no Stop for a foreign run; a forged message gets the same refusal.
        if (runs.get(this.runDir)?.foreign) throw new Error('this run was written by another trainer; it is only read here');
        return this.host.services.jobs.stop(this.runDir);
      case 'resumeRun':
        // The palette's command, so the button refuses in Restricted Mode with the same words and
        // shows its own errors.
        return Promise.resolve(vscode.commands.executeCommand('fastAdvprop.resumeTraining', { runDir: this.runDir })).then(() => undefined);
      case 'openRobustness':
        return this.host.commands.openRobustness(this.runDir);
      case 'openBudget':
        return this.host.commands.openBudget(this.runDir);
      case 'addToComparison':
        this.host.services.comparison.add(this.runDir);
        void vscode.window.showInformationMessage(`Fast AdvProp: ${runs.get(this.runDir)?.name ?? this.runDir} added to the comparison.`);
        return;
      default: {
        const never: never = msg;
        this.host.log(`dashboard: unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  private sendSnapshot(): void {
    const snap = this.host.services.runs.get(this.runDir);
    if (!snap) {
      this.sent = -1;
      this.post({ type: 'missing', runDir: this.runDir });
      return;
    }
    this.panel.title = dashboardTitle(snap.name);
    const run = dashboardRun(snap);
    this.lastHeader = JSON.stringify(run);
    this.sent = snap.metrics.length;
    this.sentFrom = snap.metrics;
    this.post({ type: 'snapshot', run, metrics: snap.metrics });
  }

  private update(): void {
    if (this.sent < 0) return; // the webview has not asked yet; its `ready` brings everything
    const snap = this.host.services.runs.get(this.runDir);
    if (!snap) return this.sendSnapshot();
    const plan = snap.metrics === this.sentFrom ? planMetrics(this.sent, snap.metrics.length) : { kind: 'snapshot' as const };
    if (plan.kind === 'snapshot') return this.sendSnapshot();
    const run = dashboardRun(snap);
    const header = JSON.stringify(run);
    if (header !== this.lastHeader) {
      this.lastHeader = header;
      this.post({ type: 'run', run });
    }
    if (plan.kind === 'delta') {
      this.post({ type: 'metrics', from: plan.from, records: snap.metrics.slice(plan.from) });
      this.sent = snap.metrics.length;
    }
  }

  private async applyLeakFix(): Promise<void> {
    const snap = this.host.services.runs.get(this.runDir);
    const config = snap?.config?.config;
    if (!config) throw new Error('this run has no config.json to start from');
    const fixed = leakFixConfig(config);
    const content = `// Next run after a label leak in "${snap.name}": shuffle BN is on, so the adversarial pass\n`
      + `// takes its BN statistics from other groups than the attack did (bnGroups = ${fixed.bnGroups}).\n`
      + `// Save as <name>.advprop.json and start it with "Fast AdvProp: Start Training".\n`
      + `${JSON.stringify(fixed, null, 2)}\n`;
    const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content });
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside });
  }
}

export function createDashboard(host: PanelHost, runDir: string, name: string, column?: vscode.ViewColumn): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, dashboardTitle(name), column ?? vscode.ViewColumn.Active, webviewOptions(host.extensionUri));
}
