// The status-bar item: live progress of the newest running run; click opens its dashboard.
import * as vscode from 'vscode';
import type { RunsModel } from './services';
import { runGroupOf } from './runGroups';
import { statusBarView } from './statusText';

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('fastAdvprop.status', vscode.StatusBarAlignment.Left, 10);
  private readonly sub: vscode.Disposable;

  constructor(private readonly runs: RunsModel, private readonly onLiveChange: (live: boolean) => void) {
    this.item.name = 'Fast AdvProp Training';
    this.sub = runs.onDidChange(() => this.update());
    this.update();
  }

  update(): void {
    const list = this.runs.list();
    const live = list.filter((s) => runGroupOf(s) === 'running');
    const queued = list.filter((s) => runGroupOf(s) === 'queued').length;
    const focus = live[0]; // list() is newest first
    this.onLiveChange(live.length > 0);
    if (!focus && queued === 0) {
      this.item.hide();
      return;
    }
    const view = statusBarView(focus, Math.max(0, live.length - 1), queued);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = { title: 'Open Dashboard', command: 'fastAdvprop.openDashboard', arguments: focus ? [focus.runDir] : [] };
    this.item.show();
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
