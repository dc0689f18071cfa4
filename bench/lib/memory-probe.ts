/**
 * Loaded into the benchmarked router process (`--import`), never into the router itself: answers
 * the parent's "memory" message with the process's memory after a full garbage collection, so
 * the figures measure what is retained, not garbage awaiting collection.
 */
process.on('message', (message) => {
  if (message !== 'memory') return;
  // Present because the benchmark starts the router with --expose-gc.
  globalThis.gc?.();
  globalThis.gc?.();
  process.send?.({ memory: process.memoryUsage() });
});
