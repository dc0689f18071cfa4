/**
 * Starting a query planner thread (planner-worker.mjs) before the router that uses it.
 *
 * A planner thread loads its own copy of the federation packages and builds the supergraph again
 * before it can plan: about a second of CPU. Started by the pool (planner-pool.ts), that second
 * comes after the gateway has built the supergraph on the router's thread, which meanwhile waits
 * for it to report ready and then for the warm-up's plans (warm-plans.ts). A process that is about
 * to start a router (router/src/index.ts, the embedded stack's packages/stack/src/main.ts) starts
 * one thread first, before loading its own modules, and then tells it which supergraph file and
 * persisted-query manifest the router is going to read (`prepareEarlyPlannerThread`): the thread
 * builds that supergraph and plans the manifest's operations on the machine's other core while
 * this one is still loading. The pool's first thread is that one; when the gateway then loads the
 * same supergraph text, the thread has its planner and the warm-up's plans ready.
 *
 * This module imports nothing but node:worker_threads, so that it costs nothing to load first.
 */
import { Worker } from 'node:worker_threads';

const WORKER_URL = new URL('./planner-worker.mjs', import.meta.url);
const PLANNER_YOUNG_GENERATION_MB = 4;

/**
 * A planner thread. No inherited flags: the worker is plain JavaScript, and loaders or probes the
 * router process was started with (tsx, a benchmark's memory probe) have no business in it.
 *
 * A small young generation: V8 would otherwise grow the thread's nursery to the main thread's size
 * while it builds the planner, and keep it, for a thread that then plans only operations it has
 * not seen. Planning is not on any request's hot path once a plan is cached; the router's peak
 * memory is (docs/performance.md, "Figures with the fast path and merging").
 */
export function newPlannerThread(): Worker {
  return new Worker(WORKER_URL, { execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: PLANNER_YOUNG_GENERATION_MB } });
}

interface EarlyThread {
  thread: Worker;
  failed: boolean;
  onFailure(): void;
}

let early: EarlyThread | undefined;

/** What the router is going to read, for the thread started early to prepare from. */
export interface EarlyPlanning {
  /** The supergraph file the gateway will load. */
  supergraphPath: string;
  /** The persisted-query manifest the warm-up plans (planning/warm-plans.ts); absent with QUERY_PLAN_WARMUP=off. */
  manifestPath?: string | undefined;
}

/** Starts one planner thread for the next pool to adopt; once per process until adopted. */
export function startPlannerThreadEarly(): void {
  if (early) return;
  const thread = newPlannerThread();
  // Like the pool's threads: never what keeps a process alive.
  thread.unref();
  const entry: EarlyThread = {
    thread,
    failed: false,
    // Until the pool adopts it, a failed thread only means the pool starts one of its own.
    onFailure: () => {
      entry.failed = true;
    },
  };
  thread.on('error', entry.onFailure).on('exit', entry.onFailure);
  early = entry;
}

/** Has the thread started early (if any) build the planner and warm-up plans of what the router will read. */
export function prepareEarlyPlannerThread(planning: EarlyPlanning): void {
  early?.thread.postMessage({ type: 'prepare', supergraphPath: planning.supergraphPath, manifestPath: planning.manifestPath });
}

/** Ends the thread started early, for a process that turns out not to plan (a cluster's primary). */
export function discardEarlyPlannerThread(): void {
  void early?.thread.terminate();
  early = undefined;
}

/** The thread started early, handed to a pool once; undefined when there is none or it failed. */
export function adoptEarlyPlannerThread(): Worker | undefined {
  const entry = early;
  early = undefined;
  if (!entry) return undefined;
  entry.thread.off('error', entry.onFailure).off('exit', entry.onFailure);
  if (!entry.failed) return entry.thread;
  void entry.thread.terminate();
  return undefined;
}
