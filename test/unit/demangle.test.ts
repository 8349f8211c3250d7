import * as assert from 'node:assert/strict';
import { demangle } from '../../src/core';

describe('demangling function names of the name section', () => {
  it('decodes Rust legacy names, dropping the hash', () => {
    const pairs: [string, string][] = [
      ['_ZN4testE', 'test'],
      ['_ZN4test1a2bcE', 'test::a::bc'],
      ['_ZN3foo17h05af221e174051e9E', 'foo'],
      ['_ZN3foo17h05af221e174051e9E.llvm.4242', 'foo'],
      ['_ZN3foo20h05af221e174051e9abcE', 'foo::h05af221e174051e9abc'],
      ['_ZN13_$LT$test$GT$E', '<test>'],
      ['_ZN28_$u7b$$u7b$closure$u7d$$u7d$E', '{{closure}}'],
      ['_ZN15__STATIC_FMTSTRE', '__STATIC_FMTSTR'],
      ['_ZN4$RP$E', ')'],
      ['_ZN8$RF$testE', '&test'],
      ['_ZN8$BP$test4foobE', '*test::foob'],
      ['_ZN9$u20$test4foobE', ' test::foob'],
      ['_ZN35Bar$LT$$u5b$u32$u3b$$u20$4$u5d$$GT$E', 'Bar<[u32; 4]>'],
      ['_ZN13test$u20$test4foobE', 'test test::foob'],
      ['_ZN12test$BP$test4foobE', 'test*test::foob'],
      ['_ZN4core9panicking5panic17h9f2b3f4e3bd3a8c1E', 'core::panicking::panic'],
      ['_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$3fmt17h1f2e3d4c5b6a7980E', '<alloc::string::String as core::fmt::Display>::fmt'],
      ['_ZN5alloc7raw_vec19RawVec$LT$T$C$A$GT$7reserve21do_reserve_and_handle17h0123456789abcdefE', 'alloc::raw_vec::RawVec<T,A>::reserve::do_reserve_and_handle'],
      ['__ZN4test1a2bcE', 'test::a::bc'],
    ];
    for (const [mangled, plain] of pairs) assert.equal(demangle(mangled), plain, mangled);
  });

  it('leaves other names as they are', () => {
    for (const name of ['boom', 'check_invariant', '_ZN', '_ZN4testX', '_ZN5abcE', '_ZN3$LT$E', '~lib/rt/itcms/__new', 'runtime.alloc', '_RNvC6_123foo3bar', '_Z3fooi', '']) {
      assert.equal(demangle(name), name, name);
    }
  });
});

describe('demangling with the Firefox profiler\'s demangler (what stacks and profiles use)', () => {
  it('decodes Rust v0 and C++ names too, and Rust legacy ones as the own demangler does', async () => {
    const { demangle: full } = await import('../../src/core/engine/demangler');
    const pairs: [string, string][] = [
      ['_RNvC6_123foo3bar', '123foo::bar'],
      ['_RNvNtCs1234_7mycrate3foo3bar', 'mycrate::foo::bar'],
      ['_Z3fooi', 'foo(int)'],
      ['_ZN2ns5Thing6methodEv', 'ns::Thing::method()'],
      ['_ZN4core9panicking5panic17h9f2b3f4e3bd3a8c1E', 'core::panicking::panic'],
      ['_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$3fmt17h1f2e3d4c5b6a7980E', '<alloc::string::String as core::fmt::Display>::fmt'],
    ];
    for (const [mangled, plain] of pairs) assert.equal(full(mangled), plain, mangled);
    for (const name of ['boom', 'check_invariant', '~lib/rt/itcms/__new', 'runtime.alloc', '']) assert.equal(full(name), name, name);
  });
});
