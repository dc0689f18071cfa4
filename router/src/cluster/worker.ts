/**
 * One worker of a clustered router (ROUTER_WORKERS > 1, primary.ts): the whole router, as index.ts
 * runs it in one process, with three differences.
 *
 *   - It listens only once started and warmed: node:cluster hands connections to every worker
 *     listening on the shared port, so a replacement that listened early would answer its share
 *     of the traffic with "the router is starting" 503s. The port stays answered by the others.
 *   - Its log lines carry `worker` (its number, 1 to ROUTER_WORKERS).
 *   - Its /metrics answers the whole router's series, summed by the primary (metrics.ts).
 *
 * Draining is runProcess's (packages/kit/src/core/run-process.ts): the primary sends SIGTERM. A
 * worker whose primary is gone (killed with SIGKILL) exits at once: node:cluster ends a worker
 * whose IPC channel closes unexpectedly, so none is left holding the port unsupervised.
 */
import { listenOn, setupTracing, createLogger, type RunningProcess } from '@campus/kit/core';
import type { RouterConfig } from '../config.ts';
import { createRouter } from '../server.ts';
import { answerMetricsCollection, metricsFromPrimary } from './metrics.ts';
import { WORKER_NUMBER_ENV, type WorkerMessage } from './messages.ts';

export async function startWorker(config: RouterConfig): Promise<RunningProcess> {
  await setupTracing('router', process.env, { prisma: false });
  const worker = Number(process.env[WORKER_NUMBER_ENV]);
  const logger = createLogger('router', config.logLevel).child({ worker });
  const router = createRouter(config, { logger, clusterMetrics: metricsFromPrimary() });
  answerMetricsCollection(router.metrics);
  await router.start();
  await listenOn(router.httpServer, config.port);
  logger.info({ port: config.port, pid: process.pid }, 'router worker ready');
  process.send?.({ type: 'campus:ready', pid: process.pid } satisfies WorkerMessage);
  // A Ctrl-C reaches every process of the group (SIGINT) and the primary's SIGTERM follows:
  // runProcess calls close() once per signal, the router stops once.
  let stopping: Promise<void> | undefined;
  return { logger, close: () => (stopping ??= router.stop()) };
}
