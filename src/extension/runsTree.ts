// The Runs view: runs grouped by state, refreshed from RunsModel events.
import * as vscode from 'vscode';
import { GROUP_LABELS, groupRuns, runContextValue, runDescription, runGroupOf, runLabel, runTooltip, type RunGroup } from './runGroups';
import type { RunSnapshot } from './runSnapshot';
import type { RunsModel } from './services';
import type { SweepsModel } from './sweeps/sweepsModel';
import { pointItem, sweepItem, type SweepTreeNode } from './sweeps/tree';

export type RunsTreeNode = { kind: 'group'; group: RunGroup; count: number } | { kind: 'run'; runDir: string } | SweepTreeNode;

const GROUP_ICONS: Record<RunGroup, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin'),
  queued: new vscode.ThemeIcon('clock'),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('debug-stop'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  crashed: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  reference: new vscode.ThemeIcon('references'),
  timm: new vscode.ThemeIcon('references'),
  tensorboard: new vscode.ThemeIcon('references'),
  unknown: new vscode.ThemeIcon('question'),
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: vscode.Disposable;
  private pending: NodeJS.Timeout | undefined;

  private readonly sweepSub: vscode.Disposable | undefined;

  /** A sweep's runs show under its sweep node (sweeps/tree.ts), not in the state groups. */
  constructor(private readonly runs: RunsModel, private readonly sweeps?: SweepsModel) {
    // Many files change per log interval; one redraw per burst is enough.
    const redraw = (): void => {
      if (this.pending) return;
      this.pending = setTimeout(() => {
        this.pending = undefined;
        this.emitter.fire(undefined);
      }, 200);
    };
    this.sub = runs.onDidChange(redraw);
    this.sweepSub = sweeps?.onDidChange(redraw);
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    if (node?.kind === 'sweep') return this.sweeps?.get(node.dir)?.states.map((s) => ({ kind: 'point', dir: node.dir, index: s.index })) ?? [];
    if (node?.kind === 'point' || node?.kind === 'run') return [];
    const groups = groupRuns(this.runs.list().filter((r) => !this.sweeps?.sweepOf(r.runDir)));
    if (!node) return [...groups.map((g): RunsTreeNode => ({ kind: 'group', group: g.group, count: g.runs.length })), ...(this.sweeps?.list() ?? []).map((v): RunsTreeNode => ({ kind: 'sweep', dir: v.dir }))];
    if (node.kind === 'group') return groups.find((g) => g.group === node.group)?.runs.map((r) => ({ kind: 'run', runDir: r.runDir })) ?? [];
    return [];
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'group' || node.kind === 'sweep') return undefined;
    if (node.kind === 'point') return { kind: 'sweep', dir: node.dir };
    const s = this.runs.get(node.runDir);
    return s ? { kind: 'group', group: runGroupOf(s), count: 0 } : undefined;
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    if (node.kind === 'sweep' || node.kind === 'point') {
      const v = this.sweeps?.get(node.dir);
      if (!v) return new vscode.TreeItem(node.dir);
      if (node.kind === 'sweep') return sweepItem(v);
      const s = v.states[node.index];
      return s ? pointItem(v, s, this.runs.get(s.runDir)) : new vscode.TreeItem(`point ${node.index}`);
    }
    if (node.kind === 'group') {
      // Every group starts open: a collapsed Stopped group hid the run a user had just stopped
      // and its Resume (#16); the view's Collapse All is there for long lists.
      const item = new vscode.TreeItem(GROUP_LABELS[node.group], vscode.TreeItemCollapsibleState.Expanded);
      item.id = `group:${node.group}`;
      item.description = String(node.count);
      item.iconPath = GROUP_ICONS[node.group];
      item.contextValue = `group.${node.group}`;
      return item;
    }
    const s = this.runs.get(node.runDir);
    return s ? runItem(s) : new vscode.TreeItem(node.runDir);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.sub.dispose();
    this.sweepSub?.dispose();
    this.emitter.dispose();
  }
}

function runItem(s: RunSnapshot): vscode.TreeItem {
  const item = new vscode.TreeItem(runLabel(s), vscode.TreeItemCollapsibleState.None);
  item.id = `run:${s.runDir}`;
  item.description = runDescription(s);
  item.tooltip = runTooltip(s);
  item.iconPath = GROUP_ICONS[runGroupOf(s)];
  item.contextValue = runContextValue(s);
  item.resourceUri = vscode.Uri.file(s.runDir);
  item.command = { title: 'Open Dashboard', command: 'fastAdvprop.openDashboard', arguments: [s.runDir] };
  return item;
}
