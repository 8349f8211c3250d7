// Odd module shapes, written in WAT: what an Extism plugin is not, but a module may be.

export type MemoryShape = 'exported' | 'other-name' | 'none' | 'imported' | 'table-named-memory' | 'global-named-memory';
export type ExportShape =
  | 'extism' | 'void' | 'i32-param' | 'i64-params' | 'i64-result' | 'f64-result' | 'f32-result'
  | 'global' | 'traps' | 'kernel-name' | 'wasi-name';
export type StartShape = 'none' | 'start-traps' | 'init-traps' | 'init-params' | 'init-global' | 'hs-init-i64' | 'hs-init-one-param';

export const MEMORY_SHAPES: readonly MemoryShape[] = ['exported', 'other-name', 'none', 'imported', 'table-named-memory', 'global-named-memory'];
export const EXPORT_SHAPES: readonly ExportShape[] = ['extism', 'void', 'i32-param', 'i64-params', 'i64-result', 'f64-result', 'f32-result', 'global', 'traps', 'kernel-name', 'wasi-name'];
export const START_SHAPES: readonly StartShape[] = ['none', 'start-traps', 'init-traps', 'init-params', 'init-global', 'hs-init-i64', 'hs-init-one-param'];

export interface Shape {
  memory: MemoryShape;
  exported: ExportShape;
  start: StartShape;
}

const MEMORY: Record<MemoryShape, string> = {
  exported: '(memory (export "memory") 1)',
  'other-name': '(memory (export "mem") 1)',
  none: '',
  imported: '(import "env" "memory" (memory 1))',
  'table-named-memory': '(table (export "memory") 1 funcref)',
  'global-named-memory': '(global (export "memory") i32 (i32.const 0))',
};

/** The export called "f" (or named like a kernel or WASI function), in each shape. */
const EXPORT: Record<ExportShape, { name: string; wat: string }> = {
  extism: { name: 'f', wat: '(func (export "f") (result i32) (i32.const 0))' },
  void: { name: 'f', wat: '(func (export "f"))' },
  'i32-param': { name: 'f', wat: '(func (export "f") (param i32) (result i32) (local.get 0))' },
  'i64-params': { name: 'f', wat: '(func (export "f") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))' },
  'i64-result': { name: 'f', wat: '(func (export "f") (result i64) (i64.const 7))' },
  'f64-result': { name: 'f', wat: '(func (export "f") (result f64) (f64.const 2.5))' },
  'f32-result': { name: 'f', wat: '(func (export "f") (result f32) (f32.const 0))' },
  global: { name: 'f', wat: '(global (export "f") i32 (i32.const 0))' },
  traps: { name: 'f', wat: '(func (export "f") (result i32) unreachable)' },
  'kernel-name': { name: 'alloc', wat: '(func (export "alloc") (result i32) (i32.const 0)) (func (export "output_set") (result i32) (i32.const 1))' },
  'wasi-name': { name: 'fd_write', wat: '(func (export "fd_write") (result i32) (i32.const 0))' },
};

const START: Record<StartShape, string> = {
  none: '',
  'start-traps': '(func $start unreachable) (start $start)',
  'init-traps': '(func (export "_initialize") unreachable)',
  'init-params': '(func (export "_initialize") (param i64) (drop (local.get 0)))',
  'init-global': '(global (export "_initialize") i32 (i32.const 0))',
  'hs-init-i64': '(func (export "hs_init") (param i64 i64))',
  // given (0, 0) as V8 passes extra arguments: it runs
  'hs-init-one-param': '(func (export "hs_init") (param i32))',
};

export function shapeName(s: Shape): string {
  return `${s.memory}_${s.exported}_${s.start}`.replace(/-/g, '_');
}

export function shapeWat(s: Shape): string {
  return `(module ${MEMORY[s.memory]} ${EXPORT[s.exported].wat} ${START[s.start]})`;
}

export function exportOf(s: Shape): string {
  return EXPORT[s.exported].name;
}

/** Every export shape with each memory shape, and every start-up shape with each memory shape. */
export function allShapes(): Shape[] {
  const shapes: Shape[] = [];
  for (const memory of MEMORY_SHAPES) {
    for (const exported of EXPORT_SHAPES) shapes.push({ memory, exported, start: 'none' });
    for (const start of START_SHAPES) if (start !== 'none') shapes.push({ memory, exported: 'extism', start });
  }
  return shapes;
}

/** What registering, then calling its export, must give: null for success, else the error's name and message. */
export function expected(s: Shape, file: string, id: number): { register: RegExp | null; call: RegExp | null } {
  const label = `plugin #${id} \\(${shapeName(s)}\\)`;
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (s.memory === 'imported') return { register: new RegExp(`^${label} imports memory "env"\\."memory", which this host does not offer$`), call: null };
  switch (s.start) {
    case 'start-traps':
      return { register: new RegExp(`^${label} failed to start: unreachable`), call: null };
    case 'init-traps':
      return { register: new RegExp(`^${label}\\.\\(initialization\\) trapped: unreachable$`), call: null };
    case 'hs-init-i64':
      return { register: new RegExp(`^${label}: its export hs_init does not take \\(i32, i32\\), as Haskell's does`), call: null };
    default:
  }
  const memory = s.memory === 'exported';
  const notExtism = (what: string) =>
    memory
      ? new RegExp(`^${label}\\.f ${what}: an Extism export takes no parameters and returns an i32 or nothing\\. If its module is a library, link it into the plugin that imports it: --link NAME=PATH`)
      : new RegExp(`^${label}: ${esc} is not an Extism plugin on its own: it exports no memory, and its export "f" ${what} \\(an Extism export takes no parameters and returns an i32 or nothing\\)\\. It is a library: link it into the plugin that imports it: --link NAME=PATH, or an entry with a "name" in a manifest's "wasm" list$`);
  switch (s.exported) {
    case 'i32-param':
      return { register: null, call: notExtism('takes 1 parameter') };
    case 'i64-params':
      return { register: null, call: notExtism('takes 2 parameters') };
    case 'i64-result':
      return { register: null, call: notExtism('returned an i64 \\(7\\)') };
    case 'f64-result':
      return { register: null, call: notExtism('returned a float \\(2\\.5\\)') };
    case 'global':
      return { register: null, call: new RegExp(`^call: ${label} has no export "f"$`) };
    case 'traps':
      return { register: null, call: new RegExp(`^${label}\\.f trapped: unreachable$`) };
    default:
      return { register: null, call: null };
  }
}
