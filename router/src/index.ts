/**
 * The router as its own process: `npm start -w @campus/router -- --supergraph PATH`.
 * The only file that starts listening (with ROUTER_WORKERS > 1, the workers of cluster/ do);
 * runProcess owns signals, draining and exit.
 */
import cluster from 'node:cluster';
import { createLogger, listenOn, runProcess, setupTracing } from '@campus/kit/core';
import { loadConfig } from './config.ts';
import { createRouter } from './server.ts';
import { startPrimary } from './cluster/primary.ts';
import { startWorker } from './cluster/worker.ts';

await runProcess('router', async () => {
  const config = loadConfig(process.env, process.argv.slice(2));
  // Several processes on one port (docs/readiness.md, "Workers"); 1 is this process alone, as ever.
  if (config.workers > 1) return cluster.isPrimary ? startPrimary(config) : startWorker(config);
  // No Prisma in the router: its instrumentation is not loaded.
  await setupTracing('router', process.env, { prisma: false });
  const logger = createLogger('router', config.logLevel);
  const router = createRouter(config, { logger });
  await listenOn(router.httpServer, config.port);
  logger.info({ port: config.port, supergraph: config.supergraphPath }, 'router listening');
  await router.start();
  logger.info(`router serving GraphQL at http://localhost:${config.port}/graphql`);
  return { logger, close: () => router.stop() };
});
