// The one acquireVsCodeApi() call a page may make, typed per panel protocol.

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

export interface Channel<Out, State> {
  post(message: Out): void;
  getState(): State | undefined;
  setState(state: State): void;
  onMessage(handler: (message: unknown) => void): void;
}

export function channel<Out, State>(): Channel<Out, State> {
  api ??= acquireVsCodeApi();
  const a = api;
  return {
    post: (m) => a.postMessage(m),
    getState: () => (a.getState() ?? undefined) as State | undefined,
    setState: (s) => a.setState(s),
    // Messages come only from the host; the page checks `type` in its exhaustive switch.
    onMessage: (handler) => window.addEventListener('message', (ev: MessageEvent) => handler(ev.data)),
  };
}
