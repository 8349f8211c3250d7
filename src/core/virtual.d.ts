declare module 'virtual:runtime-worker' {
  /** The runtime worker's bundled source, run with `new Worker(source, { eval: true })`. */
  const source: string;
  export default source;
}
