// Which exports are a plugin's own and which its PDK's runtime's.
import * as assert from 'node:assert/strict';
import { isRuntimeExport, splitExports, visibleExports } from '../../src/core';

describe('runtime exports', () => {
  it('knows the runtime exports of the PDKs', () => {
    const runtime = [
      'memory', 'malloc', 'free', 'calloc', 'realloc', '_initialize', '_start', 'hs_init', 'hs_exit',
      '__new', '__pin', '__unpin', '__collect', '__rtti_base', '__setArgumentsLength', '__data_end', '__heap_base',
      '__stack_pointer', '__wasm_call_ctors', '__indirect_function_table', 'cabi_realloc', 'asyncify_start_unwind',
      'asyncify_get_state', '__invoke', '__invoke_i32', '__arg_start', 'stackSave', 'emscripten_stack_init',
    ];
    for (const name of runtime) assert.ok(isRuntimeExport(name), name);
    for (const name of ['count_vowels', 'greet', 'run', 'step', 'alloc_extism', 'start', '_private', 'free_text', 'memory_stats']) {
      assert.ok(!isRuntimeExport(name), name);
    }
  });

  it('lists the plugin\'s own exports first, the runtime\'s only when asked', () => {
    const names = ['malloc', 'greet', '__invoke', 'count', 'memory'];
    assert.deepEqual(splitExports(names), { own: ['greet', 'count'], runtime: ['malloc', '__invoke', 'memory'] });
    assert.deepEqual(visibleExports(names), ['greet', 'count']);
    assert.deepEqual(visibleExports(names, true), ['greet', 'count', 'malloc', '__invoke', 'memory']);
  });

  it('keeps _start for a command module, whose only entry it is', () => {
    assert.deepEqual(visibleExports(['_start', 'malloc', 'free']), ['_start']);
    assert.deepEqual(visibleExports(['_start', 'run']), ['run']);
  });
});
