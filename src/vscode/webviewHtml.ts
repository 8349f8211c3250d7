// The one HTML page of every webview (the trace panel, the plugin overview): a Content-Security-Policy
// that allows nothing but the page's own bundle (by nonce) and the extension's styles, fonts and
// images, loaded from media/ only. Imports no `vscode` at run time, so the unit tests read it.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type * as vscode from 'vscode';

/** A webview's page: its bundle under media/dist/, its stylesheet under media/, its static markup. */
export interface WebviewPage {
  title: string;
  /** The script bundle, a file name in media/dist/ (`webview.js`). */
  script: string;
  /** The stylesheet, a file name in media/ (`webview.css`). */
  style: string;
  /** The body before the script: fixed markup, never plugin text (the script fills it with textContent). */
  body: string;
}

/** Where the page's files come from in this webview: its CSP source and the URIs of its files. */
export interface WebviewSources {
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** Used once: a fresh one for every page. */
  nonce: string;
}

/** Scripts by nonce only, styles, fonts and images from the extension, nothing else (no inline code, no network). */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `style-src ${cspSource}`, `font-src ${cspSource}`, `img-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

export function webviewHtml(page: WebviewPage, sources: WebviewSources): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(sources.cspSource, sources.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${sources.styleUri}">
<title>${page.title}</title>
</head>
<body>
${page.body}
<script nonce="${sources.nonce}" src="${sources.scriptUri}"></script>
</body>
</html>`;
}

export function makeNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Loads `page` into a webview: scripts on, local resources limited to media/ (the only folder the
 * page loads from), a fresh nonce.
 */
export function showWebviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): void {
  const media = inside(extensionUri, 'media');
  webview.options = { enableScripts: true, localResourceRoots: [media] };
  webview.html = webviewHtml(page, {
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(inside(media, 'dist', page.script)).toString(),
    styleUri: webview.asWebviewUri(inside(media, page.style)).toString(),
    nonce: makeNonce(),
  });
}

/** `vscode.Uri.joinPath`, without importing vscode at run time. */
function inside(uri: vscode.Uri, ...segments: string[]): vscode.Uri {
  return uri.with({ path: path.posix.join(uri.path, ...segments) });
}
