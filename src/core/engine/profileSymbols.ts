import type { CpuProfile, CpuProfileNode } from '../model/cpuProfile';
import { demangle } from './demangler';
import { ModuleSymbols, symbolsOf } from './moduleSymbols';

/** A live plugin as a profile names it: its id, name, and the modules its wasm frames come from. */
export interface ProfiledPlugin {
  id: number;
  name: string;
  modules: WebAssembly.Module[];
}

interface Owner {
  plugin: ProfiledPlugin;
  symbols: ModuleSymbols;
  imports: ReadonlySet<string>;
}

/**
 * A V8 profile of the runtime made readable as a profile of plugins: wasm frames get their
 * demangled names and, with DWARF, the source file and the function's line; each call from one
 * plugin into another becomes a frame of its own (`call_plugin → #2 hot.work`), so a plugin's time
 * nests under the call that reached it; time in a host function is a frame named after its
 * import; the kernel's frames and the runtime's JavaScript are folded into their caller.
 */
export function symbolicateProfile(profile: CpuProfile, plugins: readonly ProfiledPlugin[]): CpuProfile {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const owners = ownersOfUrls(profile.nodes, plugins);
  const root = profile.nodes.find((n) => n.callFrame.functionName === '(root)') ?? profile.nodes[0];
  const out: CpuProfileNode[] = [];
  const newId = new Map<number, number>();
  // children of a new node by key, so frames folded together merge
  const childKeys = new Map<number, Map<string, CpuProfileNode>>();

  const add = (parent: CpuProfileNode | null, callFrame: CpuProfileNode['callFrame']): CpuProfileNode => {
    const key = `${callFrame.functionName}\0${callFrame.url}\0${callFrame.lineNumber}\0${callFrame.columnNumber}`;
    if (parent) {
      const known = childKeys.get(parent.id)?.get(key);
      if (known) return known;
    }
    const node: CpuProfileNode = { id: out.length + 1, callFrame, hitCount: 0, children: [] };
    out.push(node);
    if (parent) {
      parent.children?.push(node.id);
      let keys = childKeys.get(parent.id);
      if (!keys) childKeys.set(parent.id, (keys = new Map()));
      keys.set(key, node);
    }
    return node;
  };

  interface Context {
    /** The new node time goes to. */
    into: CpuProfileNode;
    /** The plugin frame above, if any. */
    owner: Owner | null;
    /** JavaScript frames passed since that plugin frame: an import it called, if one was named. */
    viaImport: string | null;
    passedHost: boolean;
  }

  const visit = (node: CpuProfileNode, ctx: Context): void => {
    const frame = node.callFrame;
    const owner = frame.url.startsWith('wasm://') ? owners.get(frame.url) ?? null : null;
    let next: Context;
    let self: CpuProfileNode;
    const fileOffset = owner ? owner.symbols.fileOffset(frame.columnNumber) : null;
    if (owner && fileOffset !== null && !frame.functionName.startsWith('js-to-wasm') && !frame.functionName.startsWith('wasm-to-js')) {
      let parent = ctx.into;
      if (ctx.owner && ctx.passedHost && ctx.owner.plugin !== owner.plugin) {
        const via = ctx.viaImport ?? 'call_plugin';
        const name = `${via} → #${owner.plugin.id} ${owner.plugin.name}.${functionName(frame.functionName, fileOffset)}`;
        parent = add(parent, { functionName: name, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 });
      }
      const at = owner.symbols.functionPosition(frame.columnNumber);
      self = add(parent, {
        functionName: functionName(frame.functionName, fileOffset),
        scriptId: frame.scriptId,
        url: at ? at.file : frame.url,
        lineNumber: at ? at.line - 1 : frame.lineNumber,
        columnNumber: at ? Math.max(0, at.column - 1) : fileOffset,
      });
      next = { into: self, owner, viaImport: null, passedHost: false };
    } else if (node === root || (!frame.url && frame.functionName.startsWith('('))) {
      // (root), (program), (idle), (garbage collector): kept as they are
      self = add(node === root ? null : ctx.into, { ...frame });
      next = { into: self, owner: null, viaImport: null, passedHost: false };
    } else {
      // the kernel's wasm (merged into a plugin's module or not), the runtime's and the host's
      // JavaScript: folded into the frame above
      const isImport = ctx.owner !== null && !frame.url.startsWith('wasm://') && ctx.owner.imports.has(frame.functionName);
      const viaImport = ctx.viaImport ?? (isImport ? frame.functionName : null);
      self = ctx.into;
      if (ctx.owner && viaImport !== null && (node.hitCount ?? 0) > 0 && ctx.viaImport === null) {
        // a host function's own time: a frame named after the import
        self = add(ctx.into, { functionName: viaImport, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 });
      }
      next = { into: ctx.into, owner: ctx.owner, viaImport, passedHost: ctx.passedHost || !frame.url.startsWith('wasm://') };
    }
    self.hitCount = (self.hitCount ?? 0) + (node.hitCount ?? 0);
    newId.set(node.id, self.id);
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c) visit(c, next);
    }
  };
  visit(root, { into: null as unknown as CpuProfileNode, owner: null, viaImport: null, passedHost: false });

  return {
    nodes: out,
    startTime: profile.startTime,
    endTime: profile.endTime,
    samples: profile.samples?.map((id) => newId.get(id) ?? 1),
    timeDeltas: profile.timeDeltas,
  };
}

function functionName(name: string, offset: number): string {
  return name ? demangle(name) : `wasm-function@0x${offset.toString(16)}`;
}

/**
 * Which plugin each `wasm://` url is: the module of a live plugin where a function starts at every
 * offset the profile shows for that url (the kernel's and unknown modules match none).
 */
function ownersOfUrls(nodes: readonly CpuProfileNode[], plugins: readonly ProfiledPlugin[]): Map<string, Owner> {
  const offsets = new Map<string, Set<number>>();
  for (const n of nodes) {
    const { url, columnNumber, functionName: name } = n.callFrame;
    if (!url.startsWith('wasm://') || name.startsWith('js-to-wasm') || name.startsWith('wasm-to-js')) continue;
    let set = offsets.get(url);
    if (!set) offsets.set(url, (set = new Set()));
    set.add(columnNumber);
  }
  const owners = new Map<string, Owner>();
  for (const [url, seen] of offsets) {
    search: for (const plugin of plugins) {
      for (const module of plugin.modules) {
        const symbols = symbolsOf(module);
        if (!symbols || symbols.functionStarts.length === 0) continue;
        if ([...seen].every((o) => symbols.hasFunctionAt(o))) {
          const imports = new Set(WebAssembly.Module.imports(module).map((i) => i.name));
          owners.set(url, { plugin, symbols, imports });
          break search;
        }
      }
    }
  }
  return owners;
}
