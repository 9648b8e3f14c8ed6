// Registers the panel commands and the serializers that bring panels back after a window reload.

import * as vscode from 'vscode';
import { DASHBOARD_VIEW_TYPE, validateDashboardState } from '../../shared/protocol/dashboard';
import { currentLeak } from '../../shared/protocol/dashboardModel';
import { percent } from '../../shared/protocol/dashboardModel';
import type { PanelHost } from './basePanel';
import { DashboardPanel, createDashboard } from './dashboardPanel';
import { pickRun, runDirFromArg } from './runPick';
import type { PanelServices } from './types';

const LEAK_NOTIFIED_KEY = 'fastAdvprop.leakNotified';

export class Panels implements vscode.Disposable {
  private readonly dashboards = new Map<string, DashboardPanel>();
  readonly host: PanelHost;

  constructor(private readonly context: vscode.ExtensionContext, private readonly services: PanelServices) {
    this.host = {
      extensionUri: context.extensionUri,
      services,
      log: (m) => services.output.appendLine(`[panels] ${m}`),
      commands: {
        openDashboard: (d) => void this.openDashboard(d),
        openRobustness: (d) => void vscode.commands.executeCommand('fastAdvprop.openRobustness', d),
        openBudget: (d) => void vscode.commands.executeCommand('fastAdvprop.openBudgetCalculator', d),
      },
    };
  }

  async openDashboard(arg?: unknown): Promise<void> {
    const runDir = runDirFromArg(arg) ?? (await pickRun(this.services.runs, 'Open Run Dashboard'));
    if (!runDir) return;
    const existing = this.dashboards.get(runDir);
    if (existing && !existing.isDisposed) {
      existing.panel.reveal();
      return;
    }
    const name = this.services.runs.get(runDir)?.name ?? runDir.split(/[\\/]/).pop() ?? runDir;
    this.adoptDashboard(createDashboard(this.host, runDir, name), runDir);
  }

  adoptDashboard(panel: vscode.WebviewPanel, runDir: string): DashboardPanel {
    const p = new DashboardPanel(panel, this.host, runDir);
    this.dashboards.set(runDir, p);
    p.onDidDispose(() => {
      if (this.dashboards.get(runDir) === p) this.dashboards.delete(runDir);
    });
    return p;
  }

  /** One notification per run, remembered across reloads, whether or not its dashboard is open. */
  checkLeak(runDir: string): void {
    const snap = this.services.runs.get(runDir);
    if (!snap) return;
    const leak = currentLeak(snap.status, snap.results, snap.metrics);
    if (!leak?.flagged) return;
    const seen = this.context.workspaceState.get<string[]>(LEAK_NOTIFIED_KEY, []);
    if (seen.includes(runDir)) return;
    void this.context.workspaceState.update(LEAK_NOTIFIED_KEY, [...seen, runDir].slice(-500));
    const open = 'Open Dashboard';
    void vscode.window.showWarningMessage(
      `Fast AdvProp: possible label leak in "${snap.name}": adversarial train accuracy ${percent(leak.adv)} > clean ${percent(leak.clean)}. `
      + 'Use shuffle BN (bnGroups ≥ 2) for the next run.', open,
    ).then((choice) => {
      if (choice === open) void this.openDashboard(runDir);
    });
  }

  dispose(): void {
    for (const p of this.dashboards.values()) p.dispose();
    this.dashboards.clear();
  }
}

export function registerPanels(context: vscode.ExtensionContext, services: PanelServices): void {
  const panels = new Panels(context, services);
  const log = panels.host.log;
  context.subscriptions.push(
    panels,
    vscode.commands.registerCommand('fastAdvprop.openDashboard', (arg?: unknown) => panels.openDashboard(arg)),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const s = validateDashboardState(state);
        if (s instanceof Error) {
          log(`dashboard not restored: ${s.message}`);
          panel.dispose();
          return;
        }
        panels.adoptDashboard(panel, s.runDir);
      },
    }),
    services.runs.onDidChange((runDir) => panels.checkLeak(runDir)),
  );
  for (const r of services.runs.list()) panels.checkLeak(r.runDir);
}
