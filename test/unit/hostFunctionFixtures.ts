// Test plugins and host-function modules for the host functions a user supplies: WAT modules built
// here, and JS modules written to a temporary directory the tests remove.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, ENV_IMPORTS, INPUT_BLOCK } from './wat';

/** A fresh temporary directory for one suite's modules; `remove` deletes it. */
export class TempDir {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-hostfn-'));

  /** Writes a file (creating its folder) and returns its absolute path. */
  write(name: string, content: string | Uint8Array): string {
    const file = path.join(this.dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Copies the input into a new block; `output_block` makes a block the output. */
const BLOCK_HELPERS = `
  ${INPUT_BLOCK}
  (func $output_block (param $b i64) (call $output_set (local.get $b) (call $length (local.get $b))))
  (func $output_u64 (param $v i64) (local $b i64)
    (local.set $b (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $b) (local.get $v))
    (call $output_set (local.get $b) (i64.const 8)))
`;

/**
 * probe: `run` hands a block of its input to `extism:host/user.transform` and outputs the block it
 * returns; `get_var` outputs the var named by the input; `set_var` sets the var named by the input
 * to the input; `log_level` outputs `get_log_level` as a u64; `log` logs the input at info and warn.
 */
export async function probeModule(): Promise<Uint8Array> {
  return assemble(`(module ${ENV_IMPORTS}
    (import "extism:host/env" "get_log_level" (func $get_log_level (result i32)))
    (import "extism:host/user" "transform" (func $transform (param i64) (result i64)))
    (memory (export "memory") 1)
    ${BLOCK_HELPERS}
    (func (export "run") (result i32) (call $output_block (call $transform (call $input_block))) (i32.const 0))
    (func (export "get_var") (result i32) (call $output_block (call $var_get (call $input_block))) (i32.const 0))
    (func (export "set_var") (result i32) (local $b i64)
      (local.set $b (call $input_block))
      (call $var_set (local.get $b) (local.get $b))
      (i32.const 0))
    (func (export "log_level") (result i32) (call $output_u64 (i64.extend_i32_u (call $get_log_level))) (i32.const 0))
    (func (export "log") (result i32)
      (call $log_info (call $input_block))
      (call $log_warn (call $input_block))
      (i32.const 0)))`);
}

/**
 * numbers: numeric imports of a custom module, no memory. `types` passes (-2^53 - 1, -7, 2.5) to
 * `example:num.types` and outputs the block it returns; `wide` outputs `wide(0x7ffffffffffffff0)`
 * as a u64; `half` outputs the f64 bits of `half(21.0, 3)`.
 */
export async function numbersModule(): Promise<Uint8Array> {
  return assemble(`(module ${ENV_IMPORTS}
    (import "example:num" "types" (func $types (param i64 i32 f64) (result i64)))
    (import "example:num" "wide" (func $wide (param i64) (result i64)))
    (import "example:num" "half" (func $half (param f64 i32) (result f64)))
    (memory (export "memory") 1)
    ${BLOCK_HELPERS}
    (func (export "types") (result i32)
      (call $output_block (call $types (i64.const -9007199254740993) (i32.const -7) (f64.const 2.5)))
      (i32.const 0))
    (func (export "wide") (result i32) (call $output_u64 (call $wide (i64.const 0x7ffffffffffffff0))) (i32.const 0))
    (func (export "half") (result i32) (call $output_u64 (i64.reinterpret_f64 (call $half (f64.const 21) (i32.const 3)))) (i32.const 0)))`);
}

/** The functions `numbers` imports, as the body of a module's export (CJS or ESM alike). */
export const NUMBERS_FUNCTIONS = `{
  'example:num': {
    types: (ctx, a, b, c) => ctx.store(JSON.stringify([typeof a, String(a), typeof b, b, typeof c, c])),
    wide: (_ctx, x) => x + 1n,
    half: (_ctx, x, by) => x / by,
  },
}`;

/**
 * A \`transform\` for probe that runs the command its input names (\`command:argument\`) on the call
 * context and returns a block of JSON of what it saw; a CJS module.
 */
export const PROBE_COMMANDS = `
const json = (ctx, value) => ctx.store(JSON.stringify(value));
const commands = {
  read(ctx, offs, arg) {
    const view = ctx.read(offs);
    const number = ctx.read(Number(offs));
    const stored = ctx.read(ctx.store('{"k":[1,"é"]}'));
    return json(ctx, {
      text: view.text(), string: view.string(), bytes: [...view.bytes()], byteLength: view.byteLength,
      firstByte: view.getUint8(0), number: number.text(), json: stored.json(),
      zero: ctx.read(0n), zeroNumber: ctx.read(0), inside: ctx.read(offs + 1n), far: ctx.read(1n << 40n), negative: ctx.read(-5),
    });
  },
  store(ctx, offs, arg) {
    const s = ctx.store(arg);
    const b = ctx.store(new Uint8Array([0, 255, 7]));
    const sub = ctx.store(new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
    return json(ctx, { types: [typeof s, typeof b], empty: [String(ctx.store('')), String(ctx.store(new Uint8Array(0)))], text: ctx.read(s).text(), lengths: [ctx.length(s), ctx.length(b), ctx.length(sub)].map(String), bytes: [...ctx.read(b).bytes()], sub: [...ctx.read(sub).bytes()] });
  },
  alloc(ctx, offs, arg) {
    const a = ctx.alloc(Number(arg));
    const big = ctx.alloc(BigInt(arg) * 2n);
    return json(ctx, { type: typeof a, length: String(ctx.length(a)), big: String(ctx.length(big)), zero: String(ctx.alloc(0)), distinct: a !== big });
  },
  length(ctx, offs) {
    return json(ctx, { self: String(ctx.length(offs)), zero: String(ctx.length(0n)), inside: String(ctx.length(offs + 1n)), number: String(ctx.length(Number(offs))) });
  },
  setvar(ctx, offs, arg) {
    const [name, value] = arg.split('=');
    ctx.setVariable(name, value);
    ctx.setVariable(name + '.bytes', new Uint8Array([1, 2, 3]));
    return json(ctx, { set: name });
  },
  getvar(ctx, offs, arg) {
    const v = ctx.getVariable(arg);
    return json(ctx, v === null ? null : v.text());
  },
  delvar(ctx, offs, arg) {
    ctx.deleteVariable(arg);
    ctx.deleteVariable('never-set');
    return json(ctx, ctx.getVariable(arg));
  },
  bigvar(ctx, offs, arg) {
    ctx.setVariable('big', 'x'.repeat(Number(arg)));
    return json(ctx, 'set');
  },
  seterror(ctx, offs, arg) {
    ctx.setError(arg === 'Error' ? new Error('an Error object') : arg);
    return json(ctx, 'went on');
  },
  loglevel(ctx) {
    return json(ctx, ctx.logLevel);
  },
  setlevel(ctx, offs, arg) {
    const before = ctx.logLevel;
    ctx.logLevel = arg;
    return json(ctx, [before, ctx.logLevel]);
  },
  context(ctx) {
    return json(ctx, ctx.hostContext() === undefined ? 'undefined' : ctx.hostContext());
  },
  throw(ctx, offs, arg) {
    if (arg === 'string') throw 'a thrown string';
    if (arg === 'noproto') throw Object.create(null);
    throw new Error(arg);
  },
  spin() {
    for (;;) {}
  },
};
module.exports = {
  'extism:host/user': {
    transform(ctx, offs) {
      const input = ctx.read(offs);
      const text = input === null ? '' : input.text();
      const colon = text.indexOf(':');
      const [command, arg] = colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
      if (!Object.hasOwn(commands, command)) throw new Error('no command "' + command + '"');
      return commands[command](ctx, offs, arg);
    },
  },
};
`;

/** A module of one `extism:host/user.transform` that stores `body` (a JS expression of ctx and offs). */
export function transformModule(kind: 'cjs' | 'esm', body: string, extra = ''): string {
  const functions = `{ 'extism:host/user': { transform: (ctx, offs) => ${body} }${extra ? `, ${extra}` : ''} }`;
  return kind === 'cjs' ? `module.exports = ${functions};\n` : `export default ${functions};\n`;
}
