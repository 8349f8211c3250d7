/**
 * Random valid programs in WAT with structured control flow (blocks, bounded loops, ifs with both
 * arms, br_if, br_table, early returns, calls to lower functions and to an import, globals, memory,
 * traps), for the fuel rewriter: `main(i32) -> i32` and `state() -> i32` (what it leaves behind).
 */
import { prng } from './hostileInput';

export function randomProgram(seed: number): string {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const chance = (p: number) => random() < p;
  const FUNCTIONS = 4;
  const funcs: string[] = [];
  for (let f = 0; f < FUNCTIONS; f++) {
    let counters = 0;
    let labels = 0;
    const expr = (depth: number): string => {
      const leaf = () =>
        pick([
          () => `(i32.const ${Math.floor(random() * 200) - 100})`,
          () => `(local.get $p)`,
          () => `(local.get $x)`,
          () => `(global.get $acc)`,
          () => `(global.get $g)`,
        ])();
      if (depth <= 0 || chance(0.3)) return leaf();
      const d = depth - 1;
      return pick([
        () => `(${pick(['i32.add', 'i32.sub', 'i32.mul', 'i32.and', 'i32.or', 'i32.xor', 'i32.shl', 'i32.shr_u', 'i32.lt_s', 'i32.eq', 'i32.rotl'])} ${expr(d)} ${expr(d)})`,
        () => `(${pick(['i32.eqz', 'i32.clz', 'i32.popcnt'])} ${expr(d)})`,
        () => `(select ${expr(d)} ${expr(d)} ${expr(d)})`,
        () => `(if (result i32) ${expr(d)} (then ${expr(d)}) (else ${stmts(d, 1)} ${expr(d)}))`,
        () => `(block (result i32) (drop (br_if 0 ${expr(d)} ${expr(d)})) ${stmts(d, 1)} ${expr(d)})`,
        () => `(i32.load (i32.and ${expr(d)} (i32.const 1020)))`,
        () => (f > 0 ? `(call $f${Math.floor(random() * f)} ${expr(d)})` : leaf()),
        () => `(call $h ${expr(d)})`,
        () => (chance(0.15) ? `(i32.div_s ${expr(d)} ${expr(d)})` : leaf()),
        () => `(i64.eqz (i64.add (i64.extend_i32_s ${expr(d)}) (i64.const 5)))`,
      ])();
    };
    const stmt = (depth: number): string => {
      const d = depth - 1;
      const simple = () =>
        pick([
          () => `(local.set $x ${expr(1)})`,
          () => `(global.set $acc ${expr(1)})`,
          () => `(nop)`,
          () => `(drop ${expr(1)})`,
        ])();
      if (depth <= 0) return simple();
      return pick([
        simple,
        () => `(i32.store (i32.and ${expr(d)} (i32.const 1020)) ${expr(d)})`,
        () => `(if ${expr(d)} (then ${stmts(d, 2)}))`,
        () => `(if ${expr(d)} (then ${stmts(d, 2)}) (else ${stmts(d, 2)}))`,
        () => `(if ${expr(d)} (then (return ${expr(d)})))`,
        () => {
          const c = counters++;
          const l = labels++;
          return (
            `(local.set $c${c} (i32.const ${1 + Math.floor(random() * 4)})) ` +
            `(block $e${l} (loop $l${l} (br_if $e${l} (i32.eqz (local.get $c${c}))) ${stmts(d, 2)} ` +
            `(br_if $e${l} ${expr(0)}) ` +
            `(local.set $c${c} (i32.sub (local.get $c${c}) (i32.const 1))) (br $l${l})))`
          );
        },
        () => {
          const l = labels++;
          return (
            `(block $a${l} (block $b${l} (block $c${l} (br_table $c${l} $b${l} $a${l} (i32.and ${expr(d)} (i32.const 3)))) ` +
            `${stmts(d, 1)}) ${stmts(d, 1)} (br $a${l})) ${stmts(d, 1)}`
          );
        },
        () => (chance(0.1) ? `(if (i32.eq (local.get $x) (i32.const 77)) (then (unreachable)))` : simple()),
      ])();
    };
    function stmts(depth: number, max: number): string {
      const n = 1 + Math.floor(random() * max);
      return Array.from({ length: n }, () => stmt(depth)).join(' ');
    }
    const body = `${stmts(3, 4)} ${expr(3)}`;
    const locals = Array.from({ length: counters }, (_, i) => `(local $c${i} i32)`).join(' ');
    funcs.push(`(func $f${f} (param $p i32) (result i32) (local $x i32) ${locals} ${body})`);
  }
  return `(module
    (import "env" "g" (global $g i32))
    (import "env" "h" (func $h (param i32) (result i32)))
    (memory 1)
    (global $acc (mut i32) (i32.const 3))
    ${funcs.join('\n')}
    (func (export "main") (param $p i32) (result i32) (call $f${FUNCTIONS - 1} (local.get $p)))
    (func (export "state") (result i32) (local $i i32) (local $s i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 1024)))
        (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31)) (i32.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
      (i32.add (local.get $s) (global.get $acc)))
  )`;
}
