// The Runs view: runs grouped by state, refreshed from RunsModel events.
import * as vscode from 'vscode';
import { GROUP_LABELS, groupRuns, runContextValue, runDescription, runGroupOf, runLabel, runTooltip, type RunGroup } from './runGroups';
import type { RunSnapshot } from './runSnapshot';
import type { RunsModel } from './services';

export type RunsTreeNode = { kind: 'group'; group: RunGroup; count: number } | { kind: 'run'; runDir: string };

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

  constructor(private readonly runs: RunsModel) {
    // Many files change per log interval; one redraw per burst is enough.
    this.sub = runs.onDidChange(() => {
      if (this.pending) return;
      this.pending = setTimeout(() => {
        this.pending = undefined;
        this.emitter.fire(undefined);
      }, 200);
    });
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    const groups = groupRuns(this.runs.list());
    if (!node) return groups.map((g) => ({ kind: 'group', group: g.group, count: g.runs.length }));
    if (node.kind === 'group') return groups.find((g) => g.group === node.group)?.runs.map((r) => ({ kind: 'run', runDir: r.runDir })) ?? [];
    return [];
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'group') return undefined;
    const s = this.runs.get(node.runDir);
    return s ? { kind: 'group', group: runGroupOf(s), count: 0 } : undefined;
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
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
