// Preloaded into a benchmarked daemon (`node --expose-gc --import bench/gc-on-signal.mjs …`):
// SIGUSR2 runs a full garbage collection, so a benchmark can read the daemon's RSS
// once everything unreachable is really gone. Not part of Clare.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
