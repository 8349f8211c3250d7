// Host functions for the kv_counter sample, in the shape @extism/extism's createPlugin takes as
// `functions`: the same object runs under the SDK and here.
//
//   extism-ipc call kv_counter count_vowels "Hello, World!" --host-functions plugins/host-functions/kv.mjs

/** The host application's key-value store: one per runtime, kept while it runs. */
const store = new Map();

export default {
  'extism:host/user': {
    /** The value under the key (as a new block in the plugin's memory), or 0 when there is none. */
    kv_read(callContext, key) {
      const value = store.get(callContext.read(key).text());
      return value === undefined ? 0n : callContext.store(value);
    },
    kv_write(callContext, key, value) {
      store.set(callContext.read(key).text(), callContext.read(value).bytes());
    },
  },
  'example:math': {
    // i64 parameters and results are bigints, f64 and i32 are numbers, as in the SDK
    mult: (_callContext, a, b) => a * b,
    scale: (_callContext, x, by) => x * by,
  },
};
