/**
 * The bundled samples a person is offered, in the order worth trying, each with what it shows.
 * The other `.wasm` files beside them are the tests' fixtures (a trap, a spawn bomb, a loop): they
 * stay loadable by name, and out of the pickers.
 */
export const DEMO_SAMPLES: readonly { name: string; description: string }[] = [
  { name: 'run', description: 'spawns count_vowels and calls it: the seed scenario' },
  { name: 'count_vowels', description: 'counts vowels in its input, as JSON' },
  { name: 'run_bound', description: 'calls count_vowels through a binding (extismIpc.bindings)' },
  { name: 'chain_a', description: 'a chain of three plugins, each adding its mark' },
  { name: 'relay', description: 'relays its input through echo' },
  { name: 'echo', description: 'gives back its input' },
  { name: 'config_counter', description: 'a counter kept in vars, its step from config' },
  { name: 'kv_counter', description: 'uses host functions from host-functions/kv.mjs' },
  { name: 'logger', description: 'logs at every level to the Extism IPC log' },
  { name: 'wasi_clock', description: 'a WASI plugin: stdout, clock, random, files (needs a WASI grant)' },
  { name: 'http_get', description: 'HTTP from a plugin (needs allowed hosts)' },
  { name: 'linked_main', description: 'links a second module (math_lib) by name' },
];

/** The demo samples present in the folder, in catalogue order. */
export function demoSamples(available: readonly string[]): { name: string; description: string }[] {
  const present = new Set(available);
  return DEMO_SAMPLES.filter((s) => present.has(s.name));
}
