/**
 * Query planning off the event loop, with a time budget.
 *
 * Planning is synchronous CPU work whose cost grows steeply with the shape of an operation; on the
 * router's own thread one hostile operation stops every other request, health checks included.
 * Here plans are built on a worker thread: the router's thread only waits for a message. An
 * operation whose plan is not ready within the budget (counted from when it was asked for, so a
 * queue behind slow plans counts too) fails with QUERY_PLANNING_TIMEOUT, and a worker still busy
 * with it is terminated and replaced: the one way to stop synchronous work in JavaScript.
 *
 * Plans are cached per supergraph version, operation text and name, so an operation is planned
 * once; only new operations ever reach a worker.
 *
 * A thread that has planned nothing for `idleExitMs` ends, and the next new operation starts one
 * again. Once the operations clients send are cached, which is most of a router's life, a thread
 * would otherwise hold a second V8 heap (the federation packages' code, a supergraph and its query
 * graph: about 40 MiB) for nothing; that heap was most of what the router held above a plain
 * gateway's memory (docs/performance.md, "The router's start and memory"). The budget of an
 * operation that waits for such a start counts from when the new thread can plan: the start is the
 * router's cost, not the operation's.
 */
import type { Worker } from 'node:worker_threads';
import type { QueryPlan } from './federation-adapter.mjs';
import type { Logger } from '@campus/kit/core';
import { GraphQLError } from 'graphql';
import { adoptEarlyPlannerThread, newPlannerThread } from './planner-thread.ts';

export const PlanningCode = {
  QUERY_PLANNING_TIMEOUT: 'QUERY_PLANNING_TIMEOUT',
  QUERY_PLANNING_FAILED: 'QUERY_PLANNING_FAILED',
} as const;

export interface PlannerPoolOptions {
  /** Budget of one plan, from the moment it is asked for (ms). */
  timeoutMs: number;
  /** Worker threads; each plans one operation at a time. */
  workers: number;
  /** Plans kept per supergraph version. */
  cacheSize: number;
  /** A thread with nothing to plan for this long ends; the next new operation starts one (default PLANNER_IDLE_EXIT_MS). */
  idleExitMs?: number;
  logger: Logger;
}

interface Job {
  id: number;
  version: number;
  query: string;
  operationName: string | undefined;
  resolve(plan: QueryPlan): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** Asked while the pool was starting a thread after idleness: the budget starts once one can plan. */
  awaitsRestart: boolean;
  worker?: PlannerWorker;
}

interface PlannerWorker {
  thread: Worker;
  /** The supergraph version it has built its planner for (undefined while building). */
  version: number | undefined;
  job: Job | undefined;
  /** Built a planner at least once: a later failure is not a crash loop. */
  started: boolean;
  /** Ends the thread once it has had nothing to plan for idleExitMs. */
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * How long a planner thread waits for a new operation before it ends. Long enough that a burst of
 * new operations (a client's deploy, someone exploring in Sandbox) is planned by one warm thread;
 * short enough that a router serving the operations it has cached does so without the thread.
 */
export const PLANNER_IDLE_EXIT_MS = 5_000;
/**
 * What a thread started after idleness may take to load and build its planner (about a second on
 * an idle core) before the operations waiting for it start counting their budget anyway: a thread
 * that cannot start must not leave them waiting forever.
 */
const RESTART_ALLOWANCE_MS = 15_000;
const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 10_000;
const UNHEALTHY_AFTER_FAILED_STARTS = 3;

export class PlannerPool {
  private readonly workers = new Set<PlannerWorker>();
  private readonly queue: Job[] = [];
  private readonly cache = new Map<string, QueryPlan>();
  /**
   * Plans being made, by cache key: one job per operation however many requests wait for it. A
   * burst of a new operation (a client's deploy, a cold worker of a clustered router under load)
   * would otherwise queue one job per request, each timing out behind the others.
   */
  private readonly planning = new Map<string, Promise<QueryPlan>>();
  private supergraph: { version: number; sdl: string } | undefined;
  private nextId = 1;
  private closed = false;
  /** Plan cache lookups since start, read by the router's metrics (observability/metrics.ts). */
  private readonly lookups = { hits: 0, misses: 0 };
  /** Threads that failed in a row before building a planner: a crash loop, backed off and reported. */
  private failedStarts = 0;
  /** Every thread ended idle (see the top of this file); the next new operation starts them again. */
  private idle = false;
  /** Threads are being started again after idleness: the operations that wait for them have not started their budget. */
  private restarting = false;
  private readonly idleExitMs: number;
  /** Resolves when a thread first has a planner for the current supergraph. */
  private firstReady!: () => void;
  readonly ready = new Promise<void>((resolve) => (this.firstReady = resolve));

  constructor(private readonly options: PlannerPoolOptions) {
    this.idleExitMs = options.idleExitMs ?? PLANNER_IDLE_EXIT_MS;
  }

  /** A new supergraph: every worker rebuilds its planner; cached plans of older versions go. */
  setSupergraph(version: number, sdl: string): void {
    this.supergraph = { version, sdl };
    this.cache.clear();
    for (const worker of this.workers) {
      worker.version = undefined;
      worker.thread.postMessage({ type: 'supergraph', version, sdl });
    }
    // After the loop: a new thread is sent the supergraph as it starts (spawn), and a second copy
    // would have it build the same planner twice before it plans anything.
    this.startThreads();
  }

  /** Starts threads up to the pool's size; after every thread ended idle, that is a restart (see the top of this file). */
  private startThreads(): void {
    if (this.idle) this.restarting = true;
    this.idle = false;
    while (this.workers.size < this.options.workers) this.spawn();
  }

  async plan(version: number, query: string, operationName: string | undefined, cacheKey: string): Promise<QueryPlan> {
    const key = `${version}\u0000${operationName ?? ''}\u0000${cacheKey}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.lookups.hits++;
      // Least recently used goes first: re-inserting moves a hit to the end.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    this.lookups.misses++;
    return this.planAndCache(key, version, query, operationName);
  }


  /**
   * Plans an operation into the cache unless it is there, without counting a lookup: warming
   * (warm-plans.ts) is not traffic, and the hit ratio must stay the clients' own.
   */
  async prime(version: number, query: string, operationName: string | undefined, cacheKey: string): Promise<void> {
    const key = `${version}\u0000${operationName ?? ''}\u0000${cacheKey}`;
    if (!this.cache.has(key)) await this.planAndCache(key, version, query, operationName);
  }

  private planAndCache(key: string, version: number, query: string, operationName: string | undefined): Promise<QueryPlan> {
    let pending = this.planning.get(key);
    if (!pending) {
      pending = this.planOnThread(key, version, query, operationName).finally(() => this.planning.delete(key));
      this.planning.set(key, pending);
    }
    return pending;
  }

  private async planOnThread(key: string, version: number, query: string, operationName: string | undefined): Promise<QueryPlan> {
    const plan = await new Promise<QueryPlan>((resolve, reject) => {
      // Every thread ended idle: start them again; the first one ready starts the budget.
      if (this.idle && !this.closed) this.startThreads();
      const awaitsRestart = this.restarting;
      const job: Job = {
        id: this.nextId++,
        version,
        query,
        operationName,
        resolve,
        reject,
        awaitsRestart,
        timer: setTimeout(() => this.expire(job), this.options.timeoutMs + (awaitsRestart ? RESTART_ALLOWANCE_MS : 0)),
      };
      this.queue.push(job);
      this.dispatch();
    });
    if (this.cache.size >= this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, plan);
    return plan;
  }

  /** Cache lookups since start (a miss is planned on a thread, or fails) and plans cached now. */
  cacheStats(): { hits: number; misses: number; entries: number } {
    return { ...this.lookups, entries: this.cache.size };
  }

  /** Planner threads running now: none once they have all ended idle. */
  threadCount(): number {
    return this.workers.size;
  }

  /**
   * False while planner threads keep failing before they can plan (a broken install, a bad
   * flag): the router cannot serve new operations and /health says so. A thread replaced after a
   * slow plan is not a failure.
   */
  healthy(): boolean {
    return this.failedStarts < UNHEALTHY_AFTER_FAILED_STARTS;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.fail(job, new Error('The router is shutting down.'));
    for (const worker of this.workers) clearTimeout(worker.idleTimer);
    await Promise.all([...this.workers].map((w) => w.thread.terminate()));
    this.workers.clear();
  }

  private spawn(): PlannerWorker {
    // The first thread may have been started before the router, and be ready sooner (planner-thread.ts).
    const worker: PlannerWorker = { thread: adoptEarlyPlannerThread() ?? newPlannerThread(), version: undefined, job: undefined, started: false, idleTimer: undefined };
    // A planner thread must not keep a stopping router alive.
    worker.thread.unref();
    worker.thread.on('message', (message: { type?: string; version?: number; id?: number; plan?: string; error?: { message: string } }) => {
      if (message.type === 'ready') {
        worker.started = true;
        this.failedStarts = 0;
        if (message.version === this.supergraph?.version) {
          worker.version = message.version;
          this.firstReady();
          if (this.restarting) this.restarted();
        }
        this.dispatch();
        return;
      }
      const job = worker.job;
      worker.job = undefined;
      if (job && job.id === message.id) {
        clearTimeout(job.timer);
        if (message.error) {
          job.reject(new GraphQLError(`The operation could not be planned: ${message.error.message}`, { extensions: { code: PlanningCode.QUERY_PLANNING_FAILED, http: { status: 400 } } }));
        } else job.resolve(JSON.parse(message.plan!) as QueryPlan);
      }
      this.dispatch();
    });
    worker.thread.on('error', (error) => {
      if (!worker.started) this.failedStarts++;
      this.options.logger.error({ err: error, failedStarts: this.failedStarts }, 'query planner thread failed; replacing it');
      this.replace(worker);
    });
    this.workers.add(worker);
    if (this.supergraph) worker.thread.postMessage({ type: 'supergraph', ...this.supergraph });
    return worker;
  }

  /** A thread started after idleness can plan: the budgets of the operations that waited for it start now. */
  private restarted(): void {
    this.restarting = false;
    for (const job of this.queue) {
      if (!job.awaitsRestart) continue;
      job.awaitsRestart = false;
      clearTimeout(job.timer);
      job.timer = setTimeout(() => this.expire(job), this.options.timeoutMs);
    }
  }

  /** Ends a thread that has had nothing to plan for idleExitMs; the pool starts one again on demand (planOnThread). */
  private retireIfIdle(worker: PlannerWorker): void {
    clearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    if (worker.job || this.closed) return;
    worker.idleTimer = setTimeout(() => {
      worker.idleTimer = undefined;
      // Planning again, or a job for it waiting (its planner is still being built): not idle.
      if (worker.job || worker.version === undefined || this.queue.length) return;
      this.workers.delete(worker);
      void worker.thread.terminate();
      if (!this.workers.size) this.idle = true;
    }, this.idleExitMs);
    // An idle thread's timer must not keep a stopping router alive either.
    worker.idleTimer.unref();
  }

  private replace(worker: PlannerWorker): void {
    clearTimeout(worker.idleTimer);
    this.workers.delete(worker);
    void worker.thread.terminate();
    if (worker.job) this.fail(worker.job, new Error('The query planner thread failed.'));
    if (this.closed) return;
    if (this.failedStarts === 0) {
      this.spawn();
      return;
    }
    // Threads that die before planning anything would otherwise be respawned in a tight loop.
    const delay = Math.min(RESPAWN_BASE_MS * 2 ** (this.failedStarts - 1), RESPAWN_MAX_MS);
    setTimeout(() => {
      if (!this.closed && this.workers.size < this.options.workers) this.spawn();
    }, delay).unref();
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.job || worker.version === undefined) continue;
      const index = this.queue.findIndex((j) => j.version === worker.version);
      if (index < 0) continue;
      const [job] = this.queue.splice(index, 1);
      worker.job = job!;
      job!.worker = worker;
      worker.thread.postMessage({ type: 'plan', id: job!.id, version: job!.version, query: job!.query, operationName: job!.operationName });
    }
    // Whatever has nothing to do now starts (or restarts) its wait for the idle exit.
    for (const worker of this.workers) if (!worker.job && worker.version !== undefined) this.retireIfIdle(worker);
    // Jobs for a supergraph no worker will ever have again fail now rather than at their timeout.
    const current = this.supergraph?.version;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.version !== current) this.fail(this.queue.splice(i, 1)[0]!, new Error('The supergraph changed; send the operation again.'));
    }
  }

  private expire(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    job.reject(
      new GraphQLError(`Planning this operation took longer than ${this.options.timeoutMs} ms; simplify it or split it into smaller operations.`, {
        extensions: { code: PlanningCode.QUERY_PLANNING_TIMEOUT, limit: this.options.timeoutMs, http: { status: 400 } },
      }),
    );
    if (job.worker?.job === job) {
      this.options.logger.info({ timeoutMs: this.options.timeoutMs }, 'query plan over its budget; replacing the planner thread');
      job.worker.job = undefined;
      this.replace(job.worker);
    }
  }

  private fail(job: Job, error: Error): void {
    clearTimeout(job.timer);
    job.reject(error);
  }
}
