// The runs picked for comparison, kept per workspace so the selection survives a reload.
import * as vscode from 'vscode';
import type { ComparisonSet } from './services';

const KEY = 'fastAdvprop.comparison';

export class WorkspaceComparisonSet implements ComparisonSet, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly state: vscode.Memento) {}

  get(): string[] {
    return [...this.state.get<string[]>(KEY, [])];
  }

  add(runDir: string): void {
    const list = this.get();
    if (list.includes(runDir)) return;
    list.push(runDir);
    void this.state.update(KEY, list).then(() => this.emitter.fire());
  }

  remove(runDir: string): void {
    const list = this.get();
    if (!list.includes(runDir)) return;
    void this.state.update(KEY, list.filter((r) => r !== runDir)).then(() => this.emitter.fire());
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
