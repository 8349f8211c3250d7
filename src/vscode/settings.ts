import * as path from 'node:path';
import * as vscode from 'vscode';
import { mapAllowedPathHost } from '../core';
import type { BindingOptions, HostOptions, LogLevel, PermissionRule, PluginRule } from '../core';

export const SECTION = 'extismIpc';

/** The host options the settings describe, with the plugin directories made absolute. */
export interface ResolvedSettings {
  options: HostOptions;
  /** Workspace plugin directories, absolute, before the bundled samples (empty when untrusted). */
  workspaceDirs: string[];
  /** Directories named in the settings but dropped because the workspace is not trusted. */
  droppedForTrust: string[];
  /** Host-function modules named in the settings but not loaded because the workspace is not trusted. */
  hostFunctionsDropped: string[];
  samplesDir: string;
}

/** Reads `extismIpc.*` into one options object; the core validates it (normalised once). */
export function readSettings(samplesDir: string): ResolvedSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const dirs = resolveDirs(config.get<string[]>('pluginDirectories', ['plugins']));
  const trusted = vscode.workspace.isTrusted;
  const hostFunctions = resolveFiles(config.get<string[]>('hostFunctions', []));
  const workspaceDirs = trusted ? dirs : [];
  // a value that is not a number is passed on, so the core refuses it by name instead of ignoring it
  const num = (key: string): number | undefined => {
    const value = config.get<unknown>(key);
    return value === undefined || value === null ? undefined : (value as number);
  };
  // the trace store takes what it is given: only a number reaches it
  const traceNum = (key: string): number | undefined => {
    const value = config.get<unknown>(key);
    return typeof value === 'number' ? value : undefined;
  };
  const options: HostOptions = {
    pluginDirs: [...new Set([...workspaceDirs, samplesDir])],
    maxPlugins: num('limits.maxPlugins'),
    maxCallDepth: num('limits.maxCallDepth'),
    callTimeoutMs: num('limits.callTimeoutMs'),
    memoryMaxPages: num('limits.memoryMaxPages'),
    maxMessageBytes: num('limits.maxMessageBytes'),
    maxSpawnPerPlugin: num('limits.maxSpawnPerPlugin'),
    permissions: config.get<Record<string, PermissionRule>>('permissions', {}),
    // like the permissions, only the user's own bindings count in Restricted Mode (restrictedConfigurations)
    bindings: config.get<BindingOptions>('bindings', {}),
    maxVarBytes: num('limits.maxVarBytes'),
    maxHttpResponseBytes: num('limits.maxHttpResponseBytes'),
    maxModuleBytes: num('limits.maxModuleBytes'),
    fuel: num('limits.fuel'),
    countFuel: config.get<boolean>('trace.fuel', false),
    // grants are the workspace's to give only when it is trusted
    wasi: trusted && config.get<boolean>('grants.wasi', false),
    allowedHosts: trusted ? config.get<string[]>('grants.allowedHosts', []) : [],
    allowedPaths: trusted ? resolvePaths(config.get<Record<string, string>>('grants.allowedPaths', {})) : {},
    httpResponseHeaders: trusted && config.get<boolean>('grants.httpResponseHeaders', false),
    manifestGrants: trusted && config.get<boolean>('grants.fromManifests', false),
    // per plugin name: grants too, so the workspace's only when it is trusted
    plugins: trusted ? resolvePluginRules(config.get<unknown>('plugins', {})) : {},
    wasiHint: trusted
      ? 'grant it WASI in the setting extismIpc.plugins (or every plugin, extismIpc.grants.wasi)'
      : 'WASI is not granted in Restricted Mode: trust the workspace and turn on extismIpc.grants.wasi',
    // host functions are code the runtime runs: only a trusted workspace's are loaded
    hostFunctions: trusted ? hostFunctions : [],
    hostFunctionsHint: trusted
      ? 'list a module that supplies host functions in the setting extismIpc.hostFunctions, or bind the import to another plugin (extismIpc.bindings)'
      : 'host functions are code and are not loaded in Restricted Mode: trust the workspace and list a module in extismIpc.hostFunctions',
    maxTraceRecords: traceNum('trace.maxSpans'),
    logLevel: config.get<LogLevel | 'off'>('logLevel', 'info'),
  };
  return { options, workspaceDirs, droppedForTrust: trusted ? [] : dirs, hostFunctionsDropped: trusted ? [] : hostFunctions, samplesDir };
}

/** Files, workspace-relative ones against the first folder. */
function resolveFiles(entries: readonly unknown[]): string[] {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const out: string[] = [];
  for (const entry of Array.isArray(entries) ? entries : []) {
    if (typeof entry !== 'string' || entry.trim() === '') continue;
    out.push(path.isAbsolute(entry) || !base ? path.normalize(entry) : path.join(base, entry));
  }
  return out;
}

/** Host directories (workspace-relative ones against the first folder) -> guest paths. */
function resolvePaths(map: Record<string, string>): Record<string, string> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const out: Record<string, string> = {};
  for (const [host, guest] of Object.entries(map)) {
    if (typeof guest !== 'string') continue;
    // Extism's read-only "ro:" prefix stays in front of the resolved directory
    out[mapAllowedPathHost(host, (dir) => (path.isAbsolute(dir) || !base ? dir : path.join(base, dir)))] = guest;
  }
  return out;
}

/** Each plugin's rule as written, its allowedPaths resolved as the global grant's are; the core checks the rest. */
function resolvePluginRules(value: unknown): Record<string, PluginRule> {
  const out: Record<string, PluginRule> = Object.create(null);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [name, rule] of Object.entries(value as Record<string, unknown>)) {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      out[name] = rule as PluginRule;
      continue;
    }
    const paths = (rule as PluginRule).allowedPaths;
    out[name] = typeof paths === 'object' && paths !== null ? { ...(rule as PluginRule), allowedPaths: resolvePaths(paths) } : (rule as PluginRule);
  }
  return out;
}

/** Workspace-relative entries are resolved against every workspace folder, in order. */
function resolveDirs(entries: readonly string[]): string[] {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const out: string[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string' || entry.trim() === '') continue;
    if (path.isAbsolute(entry)) out.push(path.normalize(entry));
    else for (const f of folders) out.push(path.join(f.uri.fsPath, entry));
  }
  return [...new Set(out)];
}

/** Fires when a setting of ours or the workspace trust changes. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) listener();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(listener),
    vscode.workspace.onDidChangeWorkspaceFolders(listener),
  );
}
