import * as assert from 'node:assert/strict';
import { FuelRefused } from '../../src/core/engine/fuelOperators';
import { FUEL_MODULE, FUEL_NAME, meterFuel } from '../../src/core/engine/fuelRewrite';
import { randomProgram } from './fuelPrograms';
import { assemble } from './wat';

// Each count below is worked out by hand from the operators the module holds (as Binaryen emits
// them), with wasmtime's default cost: 1 an operator, 0 for nop, drop, block, loop, end, else,
// unreachable and return.
const WAT = `(module
 (import "env" "g" (global $g i32))
 (import "env" "h" (func $h (param i32) (result i32)))
 (global $counter (mut i32) (i32.const 5))
 (export "counter" (global $counter))
 (func (export "straight") (result i32) (i32.add (i32.const 1) (i32.const 2)))
 (func (export "loop") (param $n i32) (result i32) (local $i i32) (local $s i32)
  (block $done
    (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
  (local.get $s))
 (func (export "pick") (param $x i32) (result i32)
  (if (result i32) (local.get $x) (then (i32.const 10)) (else (i32.add (i32.const 20) (i32.const 1)))))
 (func (export "table") (param $x i32) (result i32)
  (block $b2 (block $b1 (block $b0
     (br_table $b0 $b1 $b2 (local.get $x)))
     (return (i32.add (i32.const 1) (i32.const 99))))
   (return (i32.const 200)))
  (i32.add (i32.mul (i32.const 3) (i32.const 100)) (i32.const 0)))
 (func $sq (param $v i32) (result i32) (i32.mul (local.get $v) (local.get $v)))
 (func (export "calls") (result i32) (i32.add (call $sq (i32.const 3)) (call $sq (i32.const 4))))
 (func (export "host") (result i32) (call $h (i32.const 7)))
 (func (export "bump") (result i32)
  (global.set $counter (i32.add (global.get $counter) (global.get $g)))
  (drop (i32.const 9)) (nop)
  (global.get $counter))
 (func (export "trap") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
)`;

const START = 10n ** 12n;

interface Metered {
  fuel: WebAssembly.Global;
  exports: Record<string, (...args: number[]) => number>;
  /** Runs an export from a full tank; returns its result and the fuel it spent. */
  run(name: string, ...args: number[]): { result: number; spent: number };
}

function instantiate(bytes: Uint8Array, hostCalls: number[] = []): Metered {
  const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, START);
  const env = { g: new WebAssembly.Global({ value: 'i32', mutable: false }, 37), h: (v: number) => (hostCalls.push(v), v * 2) };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env, [FUEL_MODULE]: { [FUEL_NAME]: fuel } });
  const exports = instance.exports as unknown as Record<string, (...args: number[]) => number>;
  return {
    fuel,
    exports,
    run(name, ...args) {
      fuel.value = START;
      const result = exports[name](...args);
      return { result, spent: Number(START - (fuel.value as bigint)) };
    },
  };
}

describe('fuel: the rewriter', () => {
  let metered: Metered;
  let original: Uint8Array;

  before(async () => {
    original = await assemble(WAT);
    const rewritten = meterFuel(original).metered;
    assert.ok(WebAssembly.validate(rewritten), 'the rewritten module validates');
    metered = instantiate(rewritten);
  });

  it('charges a straight line once: i32.const, i32.const, i32.add', () => {
    assert.deepEqual(metered.run('straight'), { result: 3, spent: 3 });
  });

  it('charges a loop per iteration: 13 an iteration, 4 for the exit test, 1 after', () => {
    for (const n of [0, 1, 10, 1000]) {
      const { result, spent } = metered.run('loop', n);
      assert.equal(result, (n * (n - 1)) >> 1);
      assert.equal(spent, 13 * n + 5, `n = ${n}`);
    }
  });

  it('charges only the arm of an if that runs', () => {
    assert.deepEqual(metered.run('pick', 1), { result: 10, spent: 3 });
    assert.deepEqual(metered.run('pick', 0), { result: 21, spent: 5 });
  });

  it('charges the target of br_table that is taken', () => {
    assert.deepEqual(metered.run('table', 0), { result: 100, spent: 5 });
    assert.deepEqual(metered.run('table', 1), { result: 200, spent: 3 });
    assert.deepEqual(metered.run('table', 2), { result: 300, spent: 7 });
    assert.deepEqual(metered.run('table', 99), { result: 300, spent: 7 });
  });

  it('charges a callee in its caller and a host function only its call', () => {
    assert.deepEqual(metered.run('calls'), { result: 25, spent: 11 });
    assert.deepEqual(metered.run('host'), { result: 14, spent: 2 });
  });

  it('keeps the module own globals working after the fuel global is imported before them', () => {
    const first = metered.run('bump');
    assert.deepEqual(first, { result: 5 + 37, spent: 6 });
    assert.equal(metered.run('bump').result, 5 + 37 * 2);
    assert.equal((metered.exports.counter as unknown as WebAssembly.Global).value, 5 + 37 * 2);
  });

  it('traps at the first run that would take the fuel below zero: a budget of exactly the count passes', () => {
    for (const n of [0, 3, 50]) {
      const cost = 13 * n + 5;
      metered.fuel.value = BigInt(cost);
      assert.equal(metered.exports.loop(n), (n * (n - 1)) >> 1);
      assert.equal(metered.fuel.value, 0n);
      metered.fuel.value = BigInt(cost - 1);
      assert.throws(() => metered.exports.loop(n), (e: unknown) => e instanceof WebAssembly.RuntimeError && /unreachable/.test(e.message));
      assert.ok((metered.fuel.value as bigint) < 0n);
    }
  });

  it('leaves the module usable after running out', () => {
    metered.fuel.value = 1n;
    assert.throws(() => metered.exports.loop(10));
    assert.deepEqual(metered.run('loop', 10), { result: 45, spent: 135 });
  });

  it('lets a trap of the module be a trap', () => {
    metered.fuel.value = START;
    assert.throws(() => metered.exports.trap(), /divide by zero/);
    assert.ok((metered.fuel.value as bigint) >= 0n);
  });

  it('refuses a module it cannot count, naming the operator', async () => {
    // a legacy try block, written by hand: (func try nop end) with exceptions
    const bytes = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type () -> ()
      0x03, 0x02, 0x01, 0x00, // one function
      0x0a, 0x08, 0x01, 0x06, 0x00, 0x06, 0x40, 0x01, 0x0b, 0x0b, // try nop end
    ]);
    assert.throws(() => meterFuel(bytes), (e: unknown) => e instanceof FuelRefused && /function 0 .*legacy exception handling/.test((e as Error).message));
  });

  it('adds an import section to a module without one', async () => {
    const bytes = await assemble('(module (func (export "f") (result i32) (i32.const 4)))');
    const m = instantiate(meterFuel(bytes).metered);
    assert.deepEqual(m.run('f'), { result: 4, spent: 1 });
    assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(meterFuel(bytes).metered)), [{ module: FUEL_MODULE, name: FUEL_NAME, kind: 'global' }]);
  });

  it('refuses a module that already imports the meter name', async () => {
    const bytes = await assemble(`(module (import "${FUEL_MODULE}" "x" (func)))`);
    assert.throws(() => meterFuel(bytes), FuelRefused);
  });
});

describe('fuel: generated modules', () => {
  it('rewritten, each of 150 random programs validates, computes what the original does and spends the same every run', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const wat = randomProgram(seed);
      const bytes = await assemble(wat);
      const rewritten = meterFuel(bytes).metered;
      assert.ok(WebAssembly.validate(rewritten), `seed ${seed} validates`);
      const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { g: new WebAssembly.Global({ value: 'i32' }, 37), h: (v: number) => v * 2 } });
      // two metered instances run the same calls: the same results as the original, the same counts as each other
      const m = instantiate(rewritten);
      const twin = instantiate(rewritten);
      const run = plain.exports as unknown as Record<string, (...args: number[]) => number>;
      for (const arg of [0, 1, 7, -3]) {
        const expected = outcome(() => run.main(arg));
        const first = outcome(() => m.run('main', arg));
        const second = outcome(() => twin.run('main', arg));
        assert.deepEqual(first.result, expected.result, `seed ${seed}, argument ${arg}: ${wat}`);
        assert.deepEqual(second, first, `seed ${seed}: the same count every run`);
      }
      // the memory and globals the program leaves are the same too
      assert.equal(run.state(), m.exports.state(), `seed ${seed}: the state it leaves`);
    }
  });
});

function outcome(f: () => unknown): { result: unknown; spent?: number } {
  try {
    const value = f();
    if (typeof value === 'object' && value !== null && 'spent' in value) return value as { result: unknown; spent: number };
    return { result: value };
  } catch (error) {
    return { result: `trap: ${(error as Error).message}` };
  }
}
