import * as vscode from 'vscode';
import { PluginHost, RuntimeTransport } from '../core';
import type { Log } from './log';
import type { ResolvedSettings } from './settings';

/** The host from the settings; a contradiction in them falls back to the defaults and says so. */
export function createHost(settings: ResolvedSettings, log: Log, transport: RuntimeTransport): PluginHost {
  try {
    return new PluginHost(settings.options, transport);
  } catch (error) {
    const message = log.error('settings', error);
    void log.toast(`${message}. Using the default limits until the setting is fixed.`);
    return new PluginHost({ pluginDirs: settings.options.pluginDirs, maxTraceRecords: settings.options.maxTraceRecords }, transport);
  }
}

/**
 * Applies settings to the running host without a reload, and tells the user in the Live Plugins
 * view when Restricted Mode keeps workspace plugins from running. Resolves once the runtime has
 * them: true, or false when they were refused (said in a toast; the previous ones stay in force).
 */
export function applySettings(host: PluginHost, settings: ResolvedSettings, log: Log, treeView: vscode.TreeView<unknown>, configure = true): Promise<boolean> {
  treeView.message = settings.droppedForTrust.length
    ? 'Restricted Mode: plugins from this workspace are not run until you trust it; only the bundled samples are available.'
    : undefined;
  if (settings.droppedForTrust.length) log.warn(`workspace not trusted: not searching ${settings.droppedForTrust.join(', ')}`);
  if (settings.hostFunctionsDropped.length) log.warn(`workspace not trusted: not loading host functions ${settings.hostFunctionsDropped.join(', ')}`);
  if (!configure) {
    if (settings.options.hostFunctions?.length) reportHostFunctions(host, log);
    return Promise.resolve(true);
  }
  return host.configure(settings.options).then(
    () => {
      log.info(`settings applied: ${describe(host)}`);
      if (settings.options.hostFunctions?.length) reportHostFunctions(host, log);
      return true;
    },
    (error: unknown) => {
      const message = log.error('settings', error);
      void log.toast(`${message}. The previous settings stay in force.`);
      return false;
    },
  );
}

/** Says in the log what the host-function modules supply, or in a toast which did not load and why. */
export function reportHostFunctions(host: PluginHost, log: Log): void {
  host.hostFunctions().then(
    (served) => log.info(`host functions: ${served.map((s) => `${s.import} (${s.file})`).join(', ') || 'none'}`),
    (error: unknown) => {
      const message = log.error('host functions', error);
      void log.toast(`${message}. Plugins that import these functions cannot load until the module is fixed.`);
    },
  );
}

function describe(host: PluginHost): string {
  const p = host.currentPolicy;
  return `dirs [${p.pluginDirs.join(', ')}], maxPlugins ${p.maxPlugins}, maxCallDepth ${p.maxCallDepth}, callTimeoutMs ${p.callTimeoutMs}, memoryMaxPages ${p.memoryMaxPages}, maxMessageBytes ${p.maxMessageBytes}`;
}
