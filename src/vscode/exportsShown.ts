import * as vscode from 'vscode';
import { visibleExports } from '../core';

/** The setting that lists the PDK runtime's exports (`malloc`, `_initialize`, `__invoke`...) too. */
export const SHOW_RUNTIME_EXPORTS = 'extismIpc.showRuntimeExports';

export function showRuntimeExports(): boolean {
  return vscode.workspace.getConfiguration('extismIpc').get<boolean>('showRuntimeExports', false) === true;
}

/** A plugin's exports as the tree and the pickers list them: its own first, the runtime's only when asked. */
export function shownExports(names: readonly string[]): string[] {
  return visibleExports(names, showRuntimeExports());
}
