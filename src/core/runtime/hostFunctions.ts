import type { HostFunctionTable, HttpRequest, HttpResponse, PluginMemory } from '../model/engine';
import { PluginError, PolicyError } from '../model/errors';
import { logMessageText } from '../model/logBudget';
import { LOG_LEVELS, LogLevel, LogThreshold, passes } from '../model/logging';
import { hostAllowed } from '../model/policy';
import { describePlugin, PluginInfo } from '../model/registry';

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
    throw new PolicyError(`${who} may not reach ${url.hostname}: ${granted}`);
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

/** Bound imports as host functions: the input block's bytes in, the output copied into a new block. */
function boundFunctions(bound: readonly BoundImport[], self: PluginMemory): HostFunctionTable['bound'] {
  const table = Object.create(null) as NonNullable<HostFunctionTable['bound']>;
  for (const b of bound) {
    const inputWhat = `${b.module}.${b.name}: input`;
    const outputWhat = `${b.module}.${b.name}: output`;
    const call = b.call;
    const functions = Object.hasOwn(table, b.module) ? table[b.module] : (table[b.module] = Object.create(null) as Record<string, (...args: never[]) => unknown>);
    functions[b.name] = (input: bigint): bigint => self.writeBlock(call(self.readBlock(input, inputWhat)), outputWhat);
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
 * `unregister_plugin` (under `extism:host/user` and `env`), and the Extism host side of
 * `extism:host/env` (config, vars, logs, HTTP).
 */
export function createHostFunctions(services: HostServices, plugin: HostedPlugin, self: PluginMemory): HostFunctionTable {
  const varBytes = () => {
    let n = 0;
    for (const [k, v] of plugin.vars) n += k.length + v.byteLength;
    return n;
  };
  // the block is checked even when the level is off; only the kept 64 KiB are ever decoded
  const log = (level: LogLevel) => (offs: bigint) => {
    const bytes = self.readBlock(offs, `log_${level}`);
    if (passes(level, services.logLevel())) services.log(plugin.id, level, logMessageText(bytes));
  };
  const funcName = nameDecoder();
  return {
    bound: boundFunctions(plugin.bound, self),
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
        const bytes = self.readBlock(value, 'var_set: value').slice();
        const total = varBytes() - (plugin.vars.get(name)?.byteLength ?? 0) + bytes.byteLength + (plugin.vars.has(name) ? 0 : name.length);
        if (total > plugin.maxVarBytes) {
          throw new PluginError(
            `var_set: ${describePlugin(plugin)} vars would take ${total} bytes, over the limit of ${plugin.maxVarBytes} (max_var_bytes)`,
          );
        }
        plugin.vars.set(name, bytes);
      },
      log_trace: log('trace'),
      log_debug: log('debug'),
      log_info: log('info'),
      log_warn: log('warn'),
      log_error: log('error'),
      get_log_level: (): number => {
        const level = services.logLevel();
        return level === 'off' ? LOG_OFF : LOG_LEVELS.indexOf(level);
      },
      http_request: (req: bigint, body: bigint): bigint => httpRequest(services, plugin, self, req, body),
      http_status_code: (): number => plugin.httpStatus,
      http_headers: (): bigint => (plugin.httpHeaders ? self.writeBlock(Buffer.from(JSON.stringify(plugin.httpHeaders)), 'http_headers') : 0n),
    },
  };
}
