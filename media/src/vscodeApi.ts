// The webview's handle on VS Code: messages to the extension and the UI state kept across reloads.
// `acquireVsCodeApi` may be called once per page.

/** `From` is what the page sends the extension; `State` what it keeps in getState/setState. */
export interface VsCodeApi<From, State> {
  postMessage(message: From): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi(): unknown;

export function vscodeApi<From, State>(): VsCodeApi<From, State> {
  return acquireVsCodeApi() as VsCodeApi<From, State>;
}
