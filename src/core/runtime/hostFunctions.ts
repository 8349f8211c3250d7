import type { FunctionImport, HostFunctionTable, HttpRequest, HttpResponse, PluginMemory } from '../model/engine';
import { PluginError, PolicyError } from '../model/errors';
import { logMessageText } from '../model/logBudget';
import { LOG_LEVELS, LogLevel, LogThreshold, passes } from '../model/logging';
import { hostAllowed } from '../model/policy';
import { describePlugin, PluginInfo } from '../model/registry';
import { setPluginVar } from './pluginVars';
import { userHostImports, UserHostServices } from './userHostFunctions';

const LOG_OFF = 0x7fffffff;

/** What the host functions need from the runtime, for the plugin they are bound to. */
export interface HostServices {
  spawn(parentId: number, name: string): number;
  call(callerId: number, calleeId: number, func: string, input: Uint8Array): Uint8Array;
  unregister(callerId: number, id: number): void;
  log(pluginId: number, level: LogLevel, message: string): void;
  logLevel(): LogThreshold;
  /** Makes an HTTP request and waits for it; the host checks the grant before. */
  http(request: Omit<HttpRequest, 'timeoutMs'>): HttpResponse;
  /** The host functions the user supplies. */
  user: UserHostServices;
}

/** An import the host bound to another plugin's export. */
export interface BoundImport {
  readonly module: string;
  readonly name: string;
  /** Calls the bound export; the output is a view valid until the callee runs again. */
  call(input: Uint8Array): Uint8Array;
}

/** The state of one live plugin that its host functions read and write. */
export interface HostedPlugin {
  id: number;
  name: string;
  config: Record<string, string>;
  vars: Map<string, Uint8Array>;
  maxVarBytes: number;
  grants: PluginInfo['grants'];
  maxHttpResponseBytes: number;
  /** Status and headers of the plugin's last HTTP response. */
  httpStatus: number;
  httpHeaders: Record<string, string> | null;
  /** Its imports bound to other plugins' exports, resolved at load. */
  bound: readonly BoundImport[];
  /** Its own log level, set by a host function through the call context; null: the host's. */
  logLevel: LogThreshold | null;
}

interface ExtismHttpRequest {
  url?: unknown;
  method?: unknown;
  headers?: unknown;
}

function httpRequest(services: HostServices, plugin: HostedPlugin, self: PluginMemory, req: bigint, body: bigint): bigint {
  const who = `http_request: ${describePlugin(plugin)}`;
  let parsed: ExtismHttpRequest;
  try {
    parsed = JSON.parse(self.readString(req, `${who}: request`)) as ExtismHttpRequest;
  } catch (error) {
    if (error instanceof PluginError) throw error;
    throw new PluginError(`${who}: the request is not JSON such as {"url": "https://…", "method": "GET"}`);
  }
  if (typeof parsed.url !== 'string') throw new PluginError(`${who}: the request has no "url"`);
  let url: URL;
  try {
    url = new URL(parsed.url);
  } catch {
    throw new PluginError(`${who}: "${parsed.url}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PolicyError(`${who}: only http and https URLs, not ${url.protocol}`);
  const hosts = plugin.grants.allowedHosts;
  if (!hostAllowed(hosts, url.hostname)) {
    const granted = hosts.length ? `allowed_hosts is ${JSON.stringify(hosts)}` : 'no allowed_hosts are granted';
    throw new PolicyError(`${who} may not reach ${url.hostname}: ${granted}`, { kind: 'allowHost', plugin: plugin.name, host: url.hostname });
  }
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  if (parsed.headers && typeof parsed.headers === 'object') {
    for (const [k, v] of Object.entries(parsed.headers as Record<string, unknown>)) headers[k] = String(v);
  }
  let response: HttpResponse;
  try {
    response = services.http({
      url: url.href,
      method: typeof parsed.method === 'string' ? parsed.method.toUpperCase() : 'GET',
      headers,
      body: body === 0n ? null : self.readBlock(body, `${who}: body`).slice(),
      maxResponseBytes: plugin.maxHttpResponseBytes,
    });
  } catch (error) {
    throw new PluginError(`${who}: ${url.href} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  plugin.httpStatus = response.status;
  // as in Extism, headers reach the plugin only when the host enables them
  plugin.httpHeaders = plugin.grants.httpResponseHeaders ? response.headers : null;
  return self.writeBlock(response.body, 'http_request: response');
}

type ImportTable = NonNullable<HostFunctionTable['imports']>;

function setImport(table: ImportTable, module: string, name: string, fn: (...args: never[]) => unknown): void {
  const functions = Object.hasOwn(table, module) ? table[module] : (table[module] = Object.create(null) as ImportTable[string]);
  functions[name] = fn;
}

/**
 * The imports served by name of any module: the user's host functions the plugin imports, then its
 * bindings (a binding wins: the host declared it for this plugin). A bound import takes the input
 * block's bytes in; its output is copied into a new block.
 */
function importTable(services: HostServices, plugin: HostedPlugin, self: PluginMemory, imports: readonly FunctionImport[]): ImportTable {
  const table = Object.create(null) as ImportTable;
  for (const u of userHostImports(services.user, plugin, self, imports)) setImport(table, u.module, u.name, u.fn);
  for (const b of plugin.bound) {
    const inputWhat = `${b.module}.${b.name}: input`;
    const outputWhat = `${b.module}.${b.name}: output`;
    const call = b.call;
    setImport(table, b.module, b.name, (input: bigint): bigint => self.writeBlock(call(self.readBlock(input, inputWhat)), outputWhat));
  }
  return table;
}

function toId(value: bigint, what: string): number {
  // one conversion: a value past 2^53 rounds to 2^53 or more, never into the range of ids
  const id = Number(value);
  if (!(id > 0 && id <= Number.MAX_SAFE_INTEGER)) throw new PolicyError(`${what}: ${value} is not a plugin id`);
  return id;
}

/**
 * Decodes the function names a plugin hands call_plugin, reusing the last string while the bytes
 * are the same (a plugin calls the same export again and again): a byte compare, no decoding.
 */
function nameDecoder(): (bytes: Uint8Array) => string {
  let last = new Uint8Array(0);
  let name = '';
  return (bytes) => {
    const n = bytes.length;
    if (n === last.length && n <= 64) {
      let i = 0;
      while (i < n && bytes[i] === last[i]) i++;
      if (i === n) return name;
    }
    name = Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('utf8');
    last = n <= 64 ? bytes.slice() : new Uint8Array(0);
    return name;
  };
}

/**
 * The host functions of one plugin instance: `register_plugin`, `call_plugin` and
 * `unregister_plugin` (under `extism:host/user` and `env`), the Extism host side of
 * `extism:host/env` (config, vars, logs, HTTP), and by import the user's host functions and the
 * plugin's bindings (`imports`, the function imports of its modules).
 */
export function createHostFunctions(services: HostServices, plugin: HostedPlugin, self: PluginMemory, imports: readonly FunctionImport[]): HostFunctionTable {
  const threshold = () => plugin.logLevel ?? services.logLevel();
  // the block is checked even when the level is off; only the kept 64 KiB are ever decoded
  const log = (level: LogLevel) => (offs: bigint) => {
    const bytes = self.readBlock(offs, `log_${level}`);
    if (passes(level, threshold())) services.log(plugin.id, level, logMessageText(bytes));
  };
  const funcName = nameDecoder();
  return {
    imports: importTable(services, plugin, self, imports),
    user: {
      register_plugin: (name: bigint): bigint =>
        BigInt(services.spawn(plugin.id, self.readString(name, 'register_plugin: plugin name'))),
      call_plugin: (id: bigint, func: bigint, input: bigint): bigint => {
        const callee = toId(id, 'call_plugin');
        const fn = funcName(self.readBlock(func, 'call_plugin: function name'));
        const output = services.call(plugin.id, callee, fn, self.readBlock(input, 'call_plugin: input'));
        return self.writeBlock(output, 'call_plugin: output');
      },
      unregister_plugin: (id: bigint): bigint => {
        services.unregister(plugin.id, toId(id, 'unregister_plugin'));
        return 0n;
      },
    },
    env: {
      config_get: (key: bigint): bigint => {
        const name = self.readString(key, 'config_get: key');
        if (!Object.hasOwn(plugin.config, name)) return 0n;
        return self.writeBlock(Buffer.from(plugin.config[name], 'utf8'), 'config_get: value');
      },
      var_get: (key: bigint): bigint => {
        const value = plugin.vars.get(self.readString(key, 'var_get: key'));
        return value === undefined ? 0n : self.writeBlock(value, 'var_get: value');
      },
      var_set: (key: bigint, value: bigint): void => {
        const name = self.readString(key, 'var_set: key');
        if (value === 0n) {
          plugin.vars.delete(name);
          return;
        }
        setPluginVar(plugin, name, self.readBlock(value, 'var_set: value').slice(), 'var_set');
      },
      log_trace: log('trace'),
      log_debug: log('debug'),
      log_info: log('info'),
      log_warn: log('warn'),
      log_error: log('error'),
      get_log_level: (): number => {
        const level = threshold();
        return level === 'off' ? LOG_OFF : LOG_LEVELS.indexOf(level);
      },
      http_request: (req: bigint, body: bigint): bigint => httpRequest(services, plugin, self, req, body),
      http_status_code: (): number => plugin.httpStatus,
      http_headers: (): bigint => (plugin.httpHeaders ? self.writeBlock(Buffer.from(JSON.stringify(plugin.httpHeaders)), 'http_headers') : 0n),
    },
  };
}
