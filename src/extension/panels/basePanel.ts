// What every panel shares: the locked-down webview options, the page, the validated message
// loop and disposal. Subclasses handle typed messages and post typed replies.

import * as vscode from 'vscode';
import { makeNonce, pageHtml } from './htmlTemplate';
import type { PanelServices } from './types';

export interface PanelHost {
  extensionUri: vscode.Uri;
  services: PanelServices;
  log(message: string): void;
  /** Opens (or reveals) another panel; lets the dashboard link to the robustness view and back. */
  commands: {
    openDashboard(runDir: string): void;
    openRobustness(runDir: string): void;
    openBudget(runDir?: string): void;
  };
}

export function webviewRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

/** Scripts on, and nothing outside dist/webview is readable. No retainContextWhenHidden: state lives in the host. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [webviewRoot(extensionUri)], enableFindWidget: true };
}

export abstract class PanelBase<In extends { type: string }, Out> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly host: PanelHost,
    bundle: string,
    private readonly validate: (raw: unknown) => In | Error,
  ) {
    const webview = panel.webview;
    webview.options = webviewOptions(host.extensionUri);
    const root = webviewRoot(host.extensionUri);
    webview.html = pageHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.js`)).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.css`)).toString(),
      title: panel.title,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private async receive(raw: unknown): Promise<void> {
    const msg = this.validate(raw);
    if (msg instanceof Error) {
      this.host.log(`[${this.panel.viewType}] ignored an invalid message: ${msg.message}`);
      return;
    }
    try {
      await this.handle(msg);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.host.log(`[${this.panel.viewType}] ${msg.type} failed: ${text}`);
      void vscode.window.showErrorMessage(`Fast AdvProp: ${text}`);
    }
  }

  protected abstract handle(msg: In): Promise<void> | void;

  protected post(msg: Out): void {
    if (this.disposed) return;
    // A hidden webview drops messages; it posts `ready` when shown again and gets a snapshot.
    void this.panel.webview.postMessage(msg).then(undefined, () => undefined);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
