// Registers the panel commands and the serializers that bring panels back after a window reload.

import * as vscode from 'vscode';
import { BUDGET_VIEW_TYPE, validateBudgetState } from '../../shared/protocol/budget';
import { COMPARE_VIEW_TYPE, validateCompareState } from '../../shared/protocol/compare';
import { DASHBOARD_VIEW_TYPE, validateDashboardState } from '../../shared/protocol/dashboard';
import { currentLeak, leakAdvice, percent } from '../../shared/protocol/dashboardModel';
import { buildResultsTable } from '../../shared/protocol/resultsTable';
import { ROBUSTNESS_VIEW_TYPE, validateRobustnessState } from '../../shared/protocol/robustness';
import type { PanelHost } from './basePanel';
import { BudgetPanel, createBudgetPanel } from './budgetPanel';
import { ComparePanel, createComparePanel } from './comparePanel';
import { DashboardPanel, createDashboard } from './dashboardPanel';
import { deliverTable, pickFormat } from './exportTable';
import { compareData } from './runData';
import { RobustnessPanel, createRobustnessPanel } from './robustnessPanel';
import { pickRun, pickRuns, runDirFromArg } from './runPick';
import type { PanelServices } from './types';

const LEAK_NOTIFIED_KEY = 'fastAdvprop.leakNotified';

export class Panels implements vscode.Disposable {
  private readonly dashboards = new Map<string, DashboardPanel>();
  private readonly robustness = new Map<string, RobustnessPanel>();
  private budget: BudgetPanel | undefined;
  private compare: ComparePanel | undefined;
  readonly host: PanelHost;

  constructor(private readonly context: vscode.ExtensionContext, private readonly services: PanelServices) {
    this.host = {
      extensionUri: context.extensionUri,
      services,
      log: (m) => services.output.appendLine(`[panels] ${m}`),
      commands: {
        openDashboard: (d) => void this.openDashboard(d),
        openRobustness: (d) => void this.openRobustness(d),
        openBudget: (d) => void this.openBudget(d),
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

  private nameOf(runDir: string): string {
    return this.services.runs.get(runDir)?.name ?? runDir.split(/[\\/]/).pop() ?? runDir;
  }

  async openRobustness(arg?: unknown): Promise<void> {
    const runDir = runDirFromArg(arg) ?? (await pickRun(this.services.runs, 'Open Robustness', (r) => r.robustness !== undefined && r.robustness !== null));
    if (!runDir) return;
    const existing = this.robustness.get(runDir);
    if (existing && !existing.isDisposed) return existing.panel.reveal();
    this.adoptRobustness(createRobustnessPanel(this.host, this.nameOf(runDir)), runDir, undefined);
  }

  adoptRobustness(panel: vscode.WebviewPanel, runDir: string, baseline: string | undefined): RobustnessPanel {
    const p = new RobustnessPanel(panel, this.host, runDir, baseline);
    this.robustness.set(runDir, p);
    p.onDidDispose(() => {
      if (this.robustness.get(runDir) === p) this.robustness.delete(runDir);
    });
    return p;
  }

  openBudget(arg?: unknown): void {
    const runDir = runDirFromArg(arg);
    if (this.budget && !this.budget.isDisposed) {
      if (runDir) this.budget.select(runDir);
      this.budget.panel.reveal();
      return;
    }
    this.adoptBudget(createBudgetPanel(this.host), runDir);
  }

  adoptBudget(panel: vscode.WebviewPanel, runDir: string | undefined): BudgetPanel {
    const p = new BudgetPanel(panel, this.host, runDir);
    this.budget = p;
    p.onDidDispose(() => {
      if (this.budget === p) this.budget = undefined;
    });
    return p;
  }

  /** Arguments: a list of run folders (or tree items); none → pick, preselecting the comparison set. */
  async compareRuns(arg?: unknown, more?: unknown): Promise<void> {
    // A multi-selection in a tree view arrives as (clicked item, all selected items).
    const list = Array.isArray(more) ? more : Array.isArray(arg) ? arg : undefined;
    let runDirs = list?.map(runDirFromArg).filter((d): d is string => !!d);
    if (!runDirs || runDirs.length < 2) runDirs = await pickRuns(this.services.runs, 'Compare Runs', this.services.comparison.get());
    if (!runDirs) return;
    if (this.compare && !this.compare.isDisposed) {
      this.compare.setRuns(runDirs);
      this.compare.panel.reveal();
      return;
    }
    this.adoptCompare(createComparePanel(this.host), runDirs, runDirs[0]);
  }

  adoptCompare(panel: vscode.WebviewPanel, runDirs: string[], baseline: string | undefined): ComparePanel {
    const p = new ComparePanel(panel, this.host, runDirs, baseline ?? runDirs[0]);
    this.compare = p;
    p.onDidDispose(() => {
      if (this.compare === p) this.compare = undefined;
    });
    return p;
  }

  async addToComparison(arg?: unknown): Promise<void> {
    const runDir = runDirFromArg(arg) ?? (await pickRun(this.services.runs, 'Add to Comparison'));
    if (!runDir) return;
    this.services.comparison.add(runDir);
    const n = this.services.comparison.get().length;
    const open = 'Compare Now';
    const choice = await vscode.window.showInformationMessage(`Fast AdvProp: "${this.nameOf(runDir)}" added; ${n} run(s) in the comparison.`, ...(n >= 2 ? [open] : []));
    if (choice === open) await this.compareRuns(this.services.comparison.get());
  }

  /** From the palette: the open Compare panel's table (its baseline and runs), else pick runs. */
  async exportResultsTable(arg?: unknown): Promise<void> {
    let table;
    let baseline: string | undefined;
    if (this.compare && !this.compare.isDisposed && arg === undefined) {
      table = this.compare.table();
      baseline = this.compare.selection.baseline;
    } else {
      const fromArg = Array.isArray(arg) ? arg.map(runDirFromArg).filter((d): d is string => !!d) : undefined;
      const runDirs = fromArg?.length ? fromArg : await pickRuns(this.services.runs, 'Export Results Table', this.services.comparison.get(), 1);
      if (!runDirs) return;
      table = buildResultsTable(runDirs.map((d) => this.services.runs.get(d)).filter((s) => s !== undefined).map(compareData));
    }
    const choice = await pickFormat();
    if (!choice) return;
    await deliverTable(table, choice.format, choice.destination, { baseline });
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
      + leakAdvice(snap.config?.config).text, open,
    ).then((choice) => {
      if (choice === open) void this.openDashboard(runDir);
    });
  }

  dispose(): void {
    for (const p of [...this.dashboards.values(), ...this.robustness.values()]) p.dispose();
    this.dashboards.clear();
    this.robustness.clear();
    this.budget?.dispose();
    this.compare?.dispose();
  }
}

export function registerPanels(context: vscode.ExtensionContext, services: PanelServices): void {
  const panels = new Panels(context, services);
  const log = panels.host.log;
  /** Restores a panel from its saved webview state; a state that fails validation closes it. */
  const serializer = <S>(viewType: string, validate: (raw: unknown) => S | Error, adopt: (panel: vscode.WebviewPanel, s: S) => void) =>
    vscode.window.registerWebviewPanelSerializer(viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const s = validate(state);
        if (s instanceof Error) {
          log(`${viewType} not restored: ${s.message}`);
          panel.dispose();
          return;
        }
        adopt(panel, s);
      },
    });
  const command = (id: string, fn: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      log(`${id} failed: ${text}`);
      void vscode.window.showErrorMessage(`Fast AdvProp: ${text}`);
      return undefined;
    }
  });
  context.subscriptions.push(
    panels,
    command('fastAdvprop.openDashboard', (arg) => panels.openDashboard(arg)),
    command('fastAdvprop.openBudgetCalculator', (arg) => panels.openBudget(arg)),
    command('fastAdvprop.compareRuns', (arg, more) => panels.compareRuns(arg, more)),
    command('fastAdvprop.exportResultsTable', (arg) => panels.exportResultsTable(arg)),
    command('fastAdvprop.addToComparison', (arg) => panels.addToComparison(arg)),
    command('fastAdvprop.openRobustness', (arg) => panels.openRobustness(arg)),
    serializer(DASHBOARD_VIEW_TYPE, validateDashboardState, (p, s) => panels.adoptDashboard(p, s.runDir)),
    serializer(BUDGET_VIEW_TYPE, validateBudgetState, (p, s) => panels.adoptBudget(p, s.runDir)),
    serializer(COMPARE_VIEW_TYPE, validateCompareState, (p, s) => panels.adoptCompare(p, s.runDirs, s.baseline)),
    serializer(ROBUSTNESS_VIEW_TYPE, validateRobustnessState, (p, s) => panels.adoptRobustness(p, s.runDir, s.baseline)),
    services.runs.onDidChange((runDir) => panels.checkLeak(runDir)),
  );
  for (const r of services.runs.list()) panels.checkLeak(r.runDir);
}
