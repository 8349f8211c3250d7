declare module 'gecko-profiler-demangle/index_bg.js';
