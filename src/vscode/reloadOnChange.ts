import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PluginHost } from '../core';
import { FileWatchers } from './fileWatchers';
import { errorMessage, Log } from './log';
import { showWarning } from './notify';
import { SECTION } from './settings';

const SETTLE_MS = 300;

/**
 * Watches the files behind every live plugin and reloads a plugin when one of them changes (a
 * rebuild): same id, same place in the tree, vars kept. A rebuild usually writes a file more than
 * once, so a reload waits until the file has been quiet for a moment. It listens to the host's
 * plugin events only; the host does the reloading.
 */
export class ReloadOnChange implements vscode.Disposable {
  private readonly watchers = new FileWatchers((file) => this.changed(file));
  private readonly pending = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly host: PluginHost,
    private readonly log: Log,
  ) {
    this.subscription = host.onDidChangePlugins(() => this.sync());
  }

  /** Watches exactly the files of the live plugins. */
  private sync(): void {
    this.watchers.watch(this.host.plugins().flatMap((p) => p.files));
  }

  private changed(file: string): void {
    if (!vscode.workspace.getConfiguration(SECTION).get<boolean>('reloadOnChange', true)) return;
    for (const plugin of this.host.plugins()) {
      if (!plugin.files.includes(file)) continue;
      clearTimeout(this.pending.get(plugin.id));
      this.pending.set(plugin.id, setTimeout(() => void this.reload(plugin.id, path.basename(file)), SETTLE_MS));
    }
  }

  /** Reloads a plugin; a failure leaves the old version running and says why. */
  private async reload(id: number, because?: string): Promise<boolean> {
    this.pending.delete(id);
    const before = this.host.plugin(id);
    if (!before) return false;
    try {
      await this.host.reload(id);
      this.log.info(`reloaded #${id} ${before.name}${because ? ` (${because} changed)` : ''}`);
      return true;
    } catch (error) {
      const message = `#${id} ${before.name} was not reloaded: ${errorMessage(error)}. The previous version keeps running.`;
      this.log.warn(message);
      void showWarning(`Extism: ${message}`, 'Show Log').then((choice) => {
        if (choice === 'Show Log') this.log.show();
      });
      return false;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    for (const t of this.pending.values()) clearTimeout(t);
    this.watchers.dispose();
  }
}
