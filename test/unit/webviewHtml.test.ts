// The one page of every webview: its Content-Security-Policy lets in the page's own bundle by nonce
// and the extension's styles, and nothing else.
import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../src/vscode/webviewHtml';

const page = { title: 'Inter-Plugin Calls', script: 'webview.js', style: 'webview.css', body: '<main id="root"></main>' };
const sources = { cspSource: 'https://file+.vscode-resource.example', scriptUri: 'https://r.example/media/dist/webview.js', styleUri: 'https://r.example/media/webview.css', nonce: 'a'.repeat(32) };

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
}

describe('the webview page', () => {
  it('allows nothing by default, scripts only by nonce, styles, fonts and images only from the extension', () => {
    const d = directives(contentSecurityPolicy(sources.cspSource, sources.nonce));
    assert.deepEqual([...d.keys()].sort(), ['default-src', 'font-src', 'img-src', 'script-src', 'style-src']);
    assert.deepEqual(d.get('default-src'), ["'none'"]);
    assert.deepEqual(d.get('script-src'), [`'nonce-${sources.nonce}'`]);
    for (const k of ['style-src', 'font-src', 'img-src']) assert.deepEqual(d.get(k), [sources.cspSource], k);
    assert.doesNotMatch(contentSecurityPolicy(sources.cspSource, sources.nonce), /unsafe|\*|data:|https?:\/\/(?!file\+)/);
  });

  it('puts the policy first in the head, the body, and the one script with its nonce last', () => {
    const html = webviewHtml(page, sources);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
    assert.ok(csp, html);
    assert.equal(csp[1], contentSecurityPolicy(sources.cspSource, sources.nonce));
    assert.ok(html.indexOf(csp[0]) < html.indexOf('<link rel="stylesheet"'), 'the policy comes before anything it governs');
    assert.match(html, /<title>Inter-Plugin Calls<\/title>/);
    assert.ok(html.includes(`<link rel="stylesheet" href="${sources.styleUri}">`));
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.deepEqual(scripts, [`<script nonce="${sources.nonce}" src="${sources.scriptUri}">`]);
    assert.ok(html.indexOf('<main id="root"></main>') < html.indexOf('<script'), 'the markup is there before the script runs');
  });

  it('makes a fresh 128-bit nonce each time', () => {
    const nonces = new Set(Array.from({ length: 50 }, makeNonce));
    assert.equal(nonces.size, 50);
    for (const n of nonces) assert.match(n, /^[0-9a-f]{32}$/);
  });
});
