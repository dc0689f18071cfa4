// Loaded into the benchmarked router process (`--import`), never into the router itself: answers
// the parent's "memory" message with the process's memory after a full garbage collection, so
// the figures measure what is retained, not garbage awaiting collection.
//
// Plain JavaScript: worker threads inherit the process's --import flags, and a .ts preload fails
// to load in the router's planner threads (router/src/planning/planner-pool.ts), which then never
// plan anything. Only the main thread has the IPC channel the probe answers on.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('message', (message) => {
    if (message !== 'memory') return;
    // Present because the benchmark starts the router with --expose-gc.
    globalThis.gc?.();
    globalThis.gc?.();
    process.send?.({ memory: process.memoryUsage() });
  });
}
