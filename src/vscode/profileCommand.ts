import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PluginHost } from '../core';
import { runCommand } from './commands';
import type { Log } from './log';
import { withNotificationProgress } from './notify';
import { pickExport, pickInput, pickPlugin } from './pickers';

export const PROFILE_COMMAND = 'extismIpc.profileCall';

/**
 * Profile Call: calls an export under a CPU profile of the runtime and opens the profile in the
 * editor's built-in profile viewer. Arguments (all optional; what is missing is asked for): the
 * plugin id, the function, the input, and `{ intervalUs, open }`. Returns the written file's path.
 */
export function registerProfileCommand(host: PluginHost, log: Log, profilesDir: vscode.Uri): vscode.Disposable {
  return vscode.commands.registerCommand(
    PROFILE_COMMAND,
    (idArg?: unknown, funcArg?: unknown, inputArg?: unknown, options?: { intervalUs?: number; open?: boolean }) => {
      const interactive = typeof idArg !== 'number' || typeof funcArg !== 'string' || (typeof inputArg !== 'string' && !(inputArg instanceof Uint8Array));
      return runCommand(log, 'Profile Call', interactive, async () => {
        const plugin = typeof idArg === 'number' ? host.plugin(idArg) : await pickPlugin(host.plugins(), 'Extism: Profile Call');
        if (!plugin) {
          if (typeof idArg === 'number') throw new Error(`no live plugin #${idArg}`);
          return undefined;
        }
        const func = typeof funcArg === 'string' ? funcArg : await pickExport(plugin);
        if (func === undefined) return undefined;
        const label = `#${plugin.id} ${plugin.name}.${func}`;
        const input = typeof inputArg === 'string' || inputArg instanceof Uint8Array ? inputArg : await pickInput(label);
        if (input === undefined) return undefined;
        const { output, profile } = await withNotificationProgress(`Extism: profiling ${label}`, () =>
          host.profileCall(plugin.id, func, input, { caller: 'command', intervalUs: options?.intervalUs }),
        );
        fs.mkdirSync(profilesDir.fsPath, { recursive: true });
        const file = path.join(profilesDir.fsPath, `${safeName(plugin.name)}.${safeName(func)}-${stamp()}.cpuprofile`);
        fs.writeFileSync(file, JSON.stringify(profile));
        log.info(`${label}: profiled (${profile.samples?.length ?? 0} samples, out ${output.byteLength} B) -> ${file}`);
        // the built-in viewer (ms-vscode.vscode-js-profile-table) opens .cpuprofile files
        if (options?.open ?? true) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
        return file;
      });
    },
  );
}

/** A plugin or function name as part of a file name: letters, digits, `-`, `_` and `.` only. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || '_';
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
