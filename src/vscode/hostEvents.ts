import * as vscode from 'vscode';
import type { PluginHost } from '../core';
import type { Log } from './log';

/** Host events and plugin logs into the log channel; a runtime that died unasked, in one toast. */
export function watchHost(host: PluginHost, log: Log): vscode.Disposable {
  const subs = [
    host.onLog((entry) => log.plugin(entry)),
    host.onDidStopRuntime((stop) => {
      const message = `the plugin runtime stopped (${stop.cause}); every plugin was unloaded`;
      if (stop.requested) {
        log.warn(message);
        return;
      }
      log.errorLine(message);
      void log.toast(`${message}. The next command starts a new one.`);
    }),
    host.trace.onRecord((r) => {
      if (r.kind === 'spawn') log.info(`spawn #${r.pluginId} ${r.name}${r.parentId !== null ? ` by #${r.parentId}` : ''}`);
      else if (r.kind === 'unregister') log.info(`end #${r.pluginId} ${r.name}`);
      else if (r.kind === 'reload') log.info(`reloaded #${r.pluginId} ${r.name} from its changed files`);
      else if (r.kind === 'call' && r.status === 'error') log.warn(`call #${r.calleeId} ${r.calleeName}.${r.func} failed: ${r.error ?? ''}`);
    }),
  ];
  return new vscode.Disposable(() => subs.forEach((s) => s.dispose()));
}
