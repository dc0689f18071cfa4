/**
 * The router as several processes on one port (ROUTER_WORKERS > 1; docs/readiness.md, "Workers"):
 * this primary forks the workers (worker.ts, each a whole router: HTTP and graphql-ws) and serves
 * no traffic itself. node:cluster shares ROUTER_PORT: the primary holds the listening socket and
 * hands each new connection to a worker that listens on it, round-robin.
 *
 * It supervises, within runProcess (packages/kit/src/core/run-process.ts) like any Campus process:
 *
 *   start    forks ROUTER_WORKERS workers and resolves once each is ready (started, plans warmed,
 *            listening); a worker that exits before that fails the start, as one process's failed
 *            start would (its own fatal line says why)
 *   a death  a worker that exits while running is replaced, after a backoff that grows while
 *            replacements keep dying young (a crash loop must not fork in a tight loop); one
 *            error line per death
 *   drain    SIGTERM/SIGINT to the primary: every worker gets SIGTERM and drains as a single
 *            process does (/ready 503 `draining`, in-flight requests finish); the primary exits 0
 *            once all have exited 0, 1 if one failed to drain
 *
 * /metrics is the sum of every worker's series (metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { counter, createLogger, createMetricsRegistry, sampledGauge, StartupError, type RunningProcess } from '@campus/kit/core';
import type { RouterConfig } from '../config.ts';
import { answerWorkerScrapes, collectClusterMetrics, type LiveWorker } from './metrics.ts';
import { isMessage, WORKER_NUMBER_ENV, type WorkerMessage } from './messages.ts';

/** First replacement after a death; doubled per young death in a row, up to RESTART_MAX_MS. */
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 10_000;
/** A worker that ran this long died "old": its replacement starts after RESTART_BASE_MS again. */
const STABLE_AFTER_MS = 30_000;

interface Slot {
  number: number;
  worker: Worker | undefined;
  startedAt: number;
  ready: boolean;
  /** Deaths in a row of workers of this number that died young. */
  youngDeaths: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export async function startPrimary(config: RouterConfig): Promise<RunningProcess> {
  // Every line of a clustered router says which process wrote it (docs/observability.md, "Logs").
  const logger = createLogger('router', config.logLevel).child({ worker: 'primary' });
  const { rateLimits } = config;
  if (rateLimits.enabled && !rateLimits.redis.url) {
    // Warned, not refused: a developer's machine has no Redis, and the limits still hold per worker.
    logger.warn(
      { workers: config.workers },
      `rate limits are counted in each worker's memory without REDIS_URL: a client may use up to ${config.workers} times each budget (docs/edge/rate-limits.md); set REDIS_URL for one shared count`,
    );
  }

  const registry = createMetricsRegistry('router');
  const restarts = counter(registry, 'campus_router_worker_restarts_total', 'Router worker processes replaced after they exited unexpectedly (ROUTER_WORKERS > 1).');
  const slots = new Map<number, Slot>();
  sampledGauge(registry, 'campus_router_workers_ready', 'Router worker processes ready and listening (ROUTER_WORKERS > 1).', () => [...slots.values()].filter((s) => s.ready).length);
  const live = (): LiveWorker[] => [...slots.values()].filter((s) => s.worker).map((s) => ({ number: s.number, worker: s.worker! }));
  const metrics = collectClusterMetrics(live, registry);

  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let started!: { resolve(): void; reject(err: Error): void };
  const allStarted = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
  let drained: (() => void) | undefined;
  const drainFailures: string[] = [];

  const fork = (slot: Slot) => {
    slot.restartTimer = undefined;
    slot.ready = false;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ [WORKER_NUMBER_ENV]: String(slot.number) });
    slot.worker = worker;
    answerWorkerScrapes(worker, metrics);
    worker.on('message', (message: unknown) => {
      if (!isMessage<WorkerMessage>(message) || message.type !== 'campus:ready') return;
      slot.ready = true;
      if (phase === 'starting' && [...slots.values()].every((s) => s.ready)) started.resolve();
    });
    worker.on('exit', (code, signal) => exited(slot, worker, code, signal));
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== worker) return;
    const wasReady = slot.ready;
    slot.worker = undefined;
    slot.ready = false;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (phase === 'stopping') {
      // A worker still starting has no drain to do; the signal ended it.
      if (wasReady && code !== 0) drainFailures.push(`worker ${slot.number} ended with ${how} while draining`);
      if (![...slots.values()].some((s) => s.worker)) drained?.();
      return;
    }
    if (phase === 'starting' && !wasReady) {
      started.reject(new StartupError(`worker ${slot.number} exited with ${how} before it was ready (its own lines above say why)`));
      return;
    }
    const young = Date.now() - slot.startedAt < STABLE_AFTER_MS;
    slot.youngDeaths = young ? slot.youngDeaths + 1 : 1;
    const delay = Math.min(RESTART_BASE_MS * 2 ** (slot.youngDeaths - 1), RESTART_MAX_MS);
    restarts.inc();
    logger.error({ workerId: slot.number, workerPid: worker.process.pid, exit: how, restartInMs: delay, youngDeaths: slot.youngDeaths }, 'router worker died; starting a replacement');
    slot.restartTimer = setTimeout(() => fork(slot), delay);
  };

  for (let number = 1; number <= config.workers; number++) {
    const slot: Slot = { number, worker: undefined, startedAt: 0, ready: false, youngDeaths: 0, restartTimer: undefined };
    slots.set(number, slot);
    fork(slot);
  }
  try {
    await allStarted;
  } catch (err) {
    // The others would otherwise keep the port (and this process) alive after the failed start.
    for (const slot of slots.values()) slot.worker?.process.kill('SIGKILL');
    throw err;
  }
  phase = 'running';
  const metricsServer = config.metrics.port === undefined ? undefined : await metrics.serve(config.metrics.port);
  logger.info(
    { port: config.port, workers: live().map((w) => ({ workerId: w.number, workerPid: w.worker.process.pid })), metricsPort: metricsServer?.port },
    `router serving with ${config.workers} worker processes`,
  );

  return {
    logger,
    async close() {
      phase = 'stopping';
      const gone = new Promise<void>((resolve) => (drained = resolve));
      let running = 0;
      for (const slot of slots.values()) {
        clearTimeout(slot.restartTimer);
        if (!slot.worker) continue;
        running++;
        // A plain signal, as an orchestrator would send one process: Worker.kill() would first
        // disconnect the worker, which closes its servers before runProcess can drain them.
        slot.worker.process.kill('SIGTERM');
      }
      if (running) await gone;
      await metricsServer?.close();
      if (drainFailures.length) throw new Error(drainFailures.join('; '));
    },
  };
}
