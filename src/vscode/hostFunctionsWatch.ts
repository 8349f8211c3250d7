import * as vscode from 'vscode';
import { FileWatchers } from './fileWatchers';
import { SECTION } from './settings';

const SETTLE_MS = 300;

/**
 * Watches the host-function modules of the settings: when one is saved or rebuilt (and
 * `extismIpc.reloadOnChange` is on), the settings are applied again, which loads the changed module
 * afresh; live plugins that import its functions call the new ones from their next call.
 */
export class HostFunctionsWatch implements vscode.Disposable {
  private readonly files = new FileWatchers(() => this.schedule());
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly changed: () => void) {}

  watch(files: readonly string[]): void {
    this.files.watch(files);
  }

  private schedule(): void {
    if (!vscode.workspace.getConfiguration(SECTION).get<boolean>('reloadOnChange', true)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed(), SETTLE_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.files.dispose();
  }
}
