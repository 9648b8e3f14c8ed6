// Robustness view for one run, with an optional baseline run.

import * as vscode from 'vscode';
import {
  ROBUSTNESS_VIEW_TYPE, validateRobustnessMessage, type RobustnessFromWebview, type RobustnessToWebview, type RobustnessView,
} from '../../shared/protocol/robustness';
import { RUN_FILES } from '../../shared/runFormat';
import { PanelBase, type PanelHost, webviewOptions } from './basePanel';
import { readRobustness } from './runData';
import { newestFirst } from './runPick';

export function robustnessTitle(name: string): string {
  return `Robustness: ${name}`;
}

export class RobustnessPanel extends PanelBase<RobustnessFromWebview, RobustnessToWebview> {
  private ready = false;

  constructor(panel: vscode.WebviewPanel, host: PanelHost, readonly runDir: string, private baseline: string | undefined) {
    super(panel, host, 'robustness', validateRobustnessMessage);
    this.disposables.push(host.services.runs.onDidChange((dir) => {
      if (this.ready && (dir === this.runDir || dir === this.baseline)) this.sendSnapshot();
    }));
  }

  private view(runDir: string): RobustnessView {
    const snap = this.host.services.runs.get(runDir);
    if (!snap) return { runDir, name: runDir, error: 'run folder not found' };
    const r = readRobustness(snap.robustness);
    const view: RobustnessView = { runDir, name: snap.name };
    if (r.record) view.record = r.record;
    if (r.thumbnails) view.thumbnails = r.thumbnails;
    if (r.error) view.error = r.error;
    else if (!r.record && snap.foreign) view.error = 'no ImageNet-C log in this folder (eval_imagenet_c.txt, or a .txt/.log holding "CE (unnormalized)" lines), or no test accuracy to stand for its clean accuracy.';
    else if (!r.record) view.error = `no ${RUN_FILES.robustness} yet: run "Fast AdvProp: Evaluate Robustness" on this run (or set autoEvaluate).`;
    return view;
  }

  private sendSnapshot(): void {
    const run = this.view(this.runDir);
    this.panel.title = robustnessTitle(run.name);
    const candidates = newestFirst(this.host.services.runs.list())
      .filter((r) => r.runDir !== this.runDir && r.robustness !== undefined && r.robustness !== null)
      .map((r) => ({ runDir: r.runDir, name: r.name }));
    this.post({ type: 'snapshot', run, baseline: this.baseline ? this.view(this.baseline) : undefined, candidates });
  }

  protected handle(msg: RobustnessFromWebview): void {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        return;
      case 'setBaseline':
        if (msg.runDir && !this.host.services.runs.get(msg.runDir)) throw new Error('that run is no longer in the runs folder');
        this.baseline = msg.runDir || undefined;
        this.sendSnapshot();
        return;
      case 'openDashboard':
        this.host.commands.openDashboard(this.runDir);
        return;
      default: {
        const never: never = msg;
        this.host.log(`robustness: unhandled message ${JSON.stringify(never)}`);
      }
    }
  }
}

export function createRobustnessPanel(host: PanelHost, name: string): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(ROBUSTNESS_VIEW_TYPE, robustnessTitle(name), vscode.ViewColumn.Active, webviewOptions(host.extensionUri));
}
