import { CodeOrigin, CodeOriginBuilder } from './codeOrigin';
import { at, ENV, KernelParts, readKernel, readTypes, Section, sections } from './kernelParts';
import { rewriteElements, rewriteNames } from './mergeIndices';
import { ModuleEnded, ModuleReader } from './moduleReader';
import { CodeMoved, IndexMap, rewriteCode, skipValType, Unmergeable } from './wasmCode';
import { WasmWriter } from './wasmWriter';

/**
 * The kernel merged into a plugin module, for a V8 with multi-memory: the plugin's imports of the
 * kernel's `extism:host/env` functions become functions of the module itself (V8 can then inline
 * them into a PDK's loops), and Extism memory becomes the module's last memory. Everything else
 * stays as the plugin wrote it: its memory keeps index 0 and its other imports stay imports.
 *
 * The merged module: the plugin's imports but the merged ones, then `KERNEL_MODULE.out_of_memory`;
 * the plugin's functions, then the kernel's; the plugin's globals, then the kernel's; the plugin's
 * memories, then Extism memory (1 page, at most `maxPages`); the plugin's exports, then the
 * kernel's under `KERNEL_EXPORT` + name (the host's side, Extism memory as `memory`, and the
 * plugin's start function as `start`: the host runs it once it holds Extism memory). Function
 * indices are remapped everywhere they occur (code, exports, elements, globals, names). Custom
 * sections but `name` and `producers` are dropped (their offsets into the code no longer hold),
 * unless the merge keeps the code's offsets (`keepOffsets`), for DWARF.
 */
export const KERNEL_MODULE = 'extism:host/kernel';
/** Exports the host reads the kernel through; not a name any toolchain gives an export. */
export const KERNEL_EXPORT = '\0extism:kernel/';

export type MergeResult =
  /** `origin`: where the merged module's code came from in the plugin's. */
  | { merged: Uint8Array; imports: WebAssembly.ModuleImportDescriptor[]; origin: CodeOrigin }
  /** `notable`: a module that could have used the kernel merged in (not a library that imports none of it). */
  | { merged: null; reason: string; notable: boolean };

const KINDS = ['function', 'table', 'memory', 'global', 'tag'];

/** Thrown for a module that needs no kernel merged in. */
class NothingToMerge extends Unmergeable {}

/** Module sections in the order the binary format requires. */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

let kernelParts: KernelParts | undefined;

/**
 * The plugin module (valid, its memory already capped) with the kernel merged in, or null and why
 * not (it imports none of the kernel's functions, or has a form this merger leaves alone).
 * `keepOffsets`: the plugin's code keeps every byte offset in its code section, so its DWARF (kept,
 * with every custom section) still holds for a debugger; a module whose rewritten indices need more
 * bytes than the file gave them is left alone. Linkers leave relocated indices padded to 5 bytes.
 */
export function mergeKernel(plugin: Uint8Array, kernel: Uint8Array, maxPages: number, keepOffsets = false): MergeResult {
  try {
    kernelParts ??= readKernel(kernel);
    return merge(plugin, kernelParts, maxPages, keepOffsets);
  } catch (error) {
    if (error instanceof Unmergeable) return { merged: null, reason: error.message, notable: !(error instanceof NothingToMerge) };
    if (error instanceof ModuleEnded) return { merged: null, reason: 'a section ends before its contents', notable: true };
    throw error;
  }
}

interface Import {
  start: number;
  end: number;
  module: string;
  name: string;
  kind: number;
  type: number;
}

function merge(bytes: Uint8Array, k: KernelParts, maxPages: number, keepOffsets: boolean): MergeResult {
  const list = sections(bytes);
  const byId = new Map<number, Section>();
  let nameSection: Section | undefined;
  const customs: Section[] = [];
  for (const s of list) {
    if (s.id === 0) {
      const r = at(bytes, s.start, s.end);
      const name = r.name();
      if (name === 'name') nameSection = { id: 0, start: r.pos, end: s.end };
      // code moved: only a section that counts no offsets into it holds (the toolchain's names)
      else if (keepOffsets || name === 'producers') customs.push(s);
    } else if (ORDER.includes(s.id)) byId.set(s.id, s);
    else throw new Unmergeable(`section ${s.id}`);
  }
  // the start function is exported instead, for the host to run once it holds Extism memory
  const startSection = byId.get(8);
  const start = startSection ? at(bytes, startSection.start, startSection.end).u32() : -1;
  byId.delete(8);

  // types: the plugin's, then those of the kernel's that the plugin lacks
  const types = readTypes(bytes, byId.get(1));
  const typeKey = (t: Uint8Array) => Buffer.from(t).toString('latin1');
  const typeIndex = new Map<string, number>();
  types.forEach((t, i) => {
    if (!typeIndex.has(typeKey(t))) typeIndex.set(typeKey(t), i);
  });
  const addedTypes: Uint8Array[] = [];
  const kernelType = k.types.map((t) => {
    const key = typeKey(t);
    let i = typeIndex.get(key);
    if (i === undefined) {
      i = types.length + addedTypes.length;
      addedTypes.push(t);
      typeIndex.set(key, i);
    }
    return i;
  });

  // imports: which are merged, and how the rest count
  const imports: Import[] = [];
  let memories = 0;
  let globals = 0;
  const importSection = byId.get(2);
  if (importSection) {
    const r = at(bytes, importSection.start, importSection.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const start = r.pos;
      const module = r.name();
      const name = r.name();
      const kind = r.byte();
      let type = -1;
      if (kind === 0) type = r.u32();
      else if (kind <= 4) r.skipImportDescription(kind);
      else throw new Unmergeable(`an import of kind ${kind}`);
      if (kind === 2) memories++;
      if (kind === 3) globals++;
      if (module === KERNEL_MODULE) throw new Unmergeable(`it imports from "${KERNEL_MODULE}"`);
      imports.push({ start, end: r.pos, module, name, kind, type });
    }
  }
  const kernelExport = new Map(k.exports.map((e) => [e.name, e.func]));
  const funcImports = imports.filter((i) => i.kind === 0);
  const isMerged = (i: Import) => i.kind === 0 && i.module === ENV && kernelExport.has(i.name);
  const merged = funcImports.filter(isMerged);
  if (merged.length === 0) throw new NothingToMerge('it imports none of the kernel\'s functions');
  for (const i of merged) {
    const want = k.types[k.funcTypes[kernelExport.get(i.name) as number]];
    if (typeKey(types[i.type]) !== typeKey(want)) throw new Unmergeable(`its import ${ENV}.${i.name} has another type than the kernel's`);
  }

  // the plugin's own functions
  const funcSection = byId.get(3);
  let defined = 0;
  let funcEntries: Uint8Array = new Uint8Array(0);
  if (funcSection) {
    const r = at(bytes, funcSection.start, funcSection.end);
    defined = r.u32();
    funcEntries = bytes.subarray(r.pos, funcSection.end);
  }

  // the function index space: kept imports, out_of_memory, the plugin's functions, the kernel's
  const kept = funcImports.length - merged.length;
  const oomIndex = kept;
  const pluginBase = kept + 1;
  const kernelBase = pluginBase + defined;
  const funcMap = new Int32Array(funcImports.length + defined);
  let rank = 0;
  funcImports.forEach((imp, i) => {
    funcMap[i] = isMerged(imp) ? kernelBase + (kernelExport.get(imp.name) as number) - k.importedFuncs : rank++;
  });
  for (let i = 0; i < defined; i++) funcMap[funcImports.length + i] = pluginBase + i;
  const pluginMap: IndexMap = {
    func: (i) => {
      if (i >= funcMap.length) throw new Unmergeable(`function index ${i} out of range`);
      return funcMap[i];
    },
    globalBase: 0,
    memory: -1,
    type: null,
    keepWidth: keepOffsets,
  };

  // sections this rewrite builds
  const out = new Map<number, WasmWriter>();

  const typeW = new WasmWriter();
  typeW.u32(types.length + addedTypes.length);
  if (byId.has(1)) {
    const r = at(bytes, (byId.get(1) as Section).start);
    r.u32();
    typeW.bytes(bytes.subarray(r.pos, (byId.get(1) as Section).end));
  }
  for (const t of addedTypes) typeW.bytes(t);
  out.set(1, typeW);

  const importW = new WasmWriter();
  importW.u32(imports.length - merged.length + 1);
  for (const i of imports) if (!isMerged(i)) importW.bytes(bytes.subarray(i.start, i.end));
  importW.name(KERNEL_MODULE);
  importW.name('out_of_memory');
  importW.byte(0);
  importW.u32(kernelType[k.funcTypes[0]]);
  out.set(2, importW);

  const funcW = new WasmWriter();
  const kernelDefined = k.funcTypes.length - k.importedFuncs;
  funcW.u32(defined + kernelDefined);
  funcW.bytes(funcEntries);
  for (let i = k.importedFuncs; i < k.funcTypes.length; i++) funcW.u32(kernelType[k.funcTypes[i]]);
  out.set(3, funcW);

  // memories: the plugin's, then Extism memory
  const memW = new WasmWriter();
  const memSection = byId.get(5);
  let ownMemories = 0;
  let memEntries: Uint8Array = new Uint8Array(0);
  if (memSection) {
    const r = at(bytes, memSection.start, memSection.end);
    ownMemories = r.u32();
    memEntries = bytes.subarray(r.pos, memSection.end);
  }
  const extismMemory = memories + ownMemories;
  memW.u32(ownMemories + 1);
  memW.bytes(memEntries);
  memW.byte(1);
  memW.u32(1);
  memW.u32(maxPages);
  out.set(5, memW);

  // globals: the plugin's (ref.func in their initialisers remapped), then the kernel's
  const globalW = new WasmWriter();
  const globalSection = byId.get(6);
  let ownGlobals = 0;
  const ownGlobalsW = new WasmWriter();
  if (globalSection) {
    const r = at(bytes, globalSection.start, globalSection.end);
    ownGlobals = r.u32();
    for (let i = 0; i < ownGlobals; i++) {
      const start = r.pos;
      skipValType(r);
      r.byte();
      ownGlobalsW.bytes(bytes.subarray(start, r.pos));
      rewriteCode(bytes, r, -1, ownGlobalsW, pluginMap);
    }
  }
  globalW.u32(ownGlobals + k.globalCount);
  globalW.bytes(ownGlobalsW.done());
  globalW.bytes(k.globals);
  out.set(6, globalW);
  const kernelMap: IndexMap = {
    func: (i) => (i < k.importedFuncs ? oomIndex : kernelBase + i - k.importedFuncs),
    globalBase: globals + ownGlobals,
    memory: extismMemory,
    type: (t) => kernelType[t],
  };

  // exports: the plugin's (functions remapped), then the kernel's under hidden names
  const exportW = new WasmWriter();
  const exportSection = byId.get(7);
  const names = new Set<string>();
  const ownExports = new WasmWriter();
  let exportCount = 0;
  if (exportSection) {
    const r = at(bytes, exportSection.start, exportSection.end);
    exportCount = r.u32();
    for (let i = 0; i < exportCount; i++) {
      const start = r.pos;
      names.add(r.name());
      const kind = r.byte();
      ownExports.bytes(bytes.subarray(start, r.pos));
      const index = r.u32();
      ownExports.u32(kind === 0 ? pluginMap.func(index) : index);
    }
  }
  const hidden = [...k.exports.map((e) => KERNEL_EXPORT + e.name), KERNEL_EXPORT + 'memory', KERNEL_EXPORT + 'start'];
  for (const name of hidden) if (names.has(name)) throw new Unmergeable(`it exports "${name}"`);
  exportW.u32(exportCount + hidden.length - (start < 0 ? 1 : 0));
  exportW.bytes(ownExports.done());
  if (start >= 0) {
    exportW.name(KERNEL_EXPORT + 'start');
    exportW.byte(0);
    exportW.u32(pluginMap.func(start));
  }
  for (const e of k.exports) {
    exportW.name(KERNEL_EXPORT + e.name);
    exportW.byte(0);
    exportW.u32(kernelMap.func(e.func));
  }
  exportW.name(KERNEL_EXPORT + 'memory');
  exportW.byte(2);
  exportW.u32(extismMemory);
  out.set(7, exportW);

  const elemSection = byId.get(9);
  if (elemSection) out.set(9, rewriteElements(bytes, elemSection, pluginMap));

  // code: the plugin's bodies (calls remapped), then the kernel's (memory, globals, calls remapped)
  const codeW = new WasmWriter(Math.max(256, (byId.get(10)?.end ?? 0) - (byId.get(10)?.start ?? 0) + k.bytes.length));
  const codeSection = byId.get(10);
  const origin = new CodeOriginBuilder();
  const fileCodeStart = codeSection?.start ?? 0;
  // a count or size written as wide as the file's, when the code is not to move
  const writeU32 = (w: WasmWriter, value: number, fileWidth: number) => {
    if (!keepOffsets) w.u32(value);
    else if (!w.u32Width(value, fileWidth)) throw new Unmergeable('its code would move: the function count or a body size needs more bytes than the file gave it');
  };
  if (!codeSection) codeW.u32(defined + kernelDefined);
  else {
    const r = at(bytes, codeSection.start, codeSection.end);
    const n = r.u32();
    writeU32(codeW, defined + kernelDefined, r.pos - codeSection.start);
    const body = new WasmWriter(4096);
    const anchors: number[] = [];
    const moved: CodeMoved = (outAt, inAt) => anchors.push(outAt, inAt - fileCodeStart);
    for (let i = 0; i < n; i++) {
      const sizeAt = r.pos;
      const size = r.u32();
      const sizeWidth = r.pos - sizeAt;
      const end = r.pos + size;
      if (end > codeSection.end) throw new ModuleEnded();
      body.length = 0;
      anchors.length = 0;
      const fileStart = r.pos - fileCodeStart;
      rewriteBody(bytes, r, end, body, pluginMap, moved);
      writeU32(codeW, body.length, sizeWidth);
      origin.anchor(codeW.length, fileStart);
      for (let a = 0; a < anchors.length; a += 2) origin.anchor(codeW.length + anchors[a], anchors[a + 1]);
      codeW.bytes(body.done());
    }
  }
  const body = new WasmWriter(1024);
  for (const b of k.bodies) {
    body.length = 0;
    rewriteBody(k.bytes, at(k.bytes, b.start), b.end, body, kernelMap);
    codeW.u32(body.length);
    origin.anchor(codeW.length, -1);
    codeW.bytes(body.done());
  }
  out.set(10, codeW);

  const result = new WasmWriter(bytes.length + k.bytes.length + 1024);
  const copy = (id: number, s: Section) => {
    result.byte(id);
    result.u32(s.end - s.start);
    result.bytes(bytes.subarray(s.start, s.end));
  };
  result.bytes(bytes.subarray(0, 8));
  for (const id of ORDER) {
    const built = out.get(id);
    const s = byId.get(id);
    if (built) result.section(id, built);
    else if (s) copy(id, s);
  }
  if (nameSection) {
    const dropped = (i: number) => i < funcImports.length && isMerged(funcImports[i]);
    const names = rewriteNames(bytes, nameSection, pluginMap, dropped, k, kernelMap);
    if (names) {
      const w = new WasmWriter();
      w.name('name');
      w.bytes(names);
      result.section(0, w);
    }
  }
  for (const s of customs) copy(0, s);
  const declared = imports.map((i) => ({ module: i.module, name: i.name, kind: KINDS[i.kind] as WebAssembly.ImportExportKind }));
  return { merged: result.done(), imports: declared, origin: origin.done({ first: pluginBase, count: defined, fileFirst: funcImports.length }) };
}

/** A function body: its locals as they are, its code rewritten. */
function rewriteBody(bytes: Uint8Array, r: ModuleReader, end: number, out: WasmWriter, map: IndexMap, moved?: CodeMoved): void {
  const start = r.pos;
  const groups = r.u32();
  if (groups > end - r.pos) throw new ModuleEnded();
  for (let i = 0; i < groups; i++) {
    r.u32();
    skipValType(r);
  }
  out.bytes(bytes.subarray(start, r.pos));
  rewriteCode(bytes, r, end, out, map, moved);
}
