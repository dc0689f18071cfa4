/**
 * The router as its own process: `npm start -w @campus/router -- --supergraph PATH`.
 * The only file that starts listening (with ROUTER_WORKERS > 1, the workers of cluster/ do);
 * runProcess owns signals, draining and exit.
 */
import cluster from 'node:cluster';
import { discardEarlyPlannerThread, prepareEarlyPlannerThread, startPlannerThreadEarly } from './planning/planner-thread.ts';

// The query planner's thread first, before this thread loads the router's modules (about a second
// of CPU), so that it loads its own on the other core meanwhile (planning/planner-thread.ts). The
// rest is imported below for the same reason: static imports would all load before this line.
startPlannerThreadEarly();

const { createLogger, listenOn, runProcess, setupTracing } = await import('@campus/kit/core');
const { loadConfig } = await import('./config.ts');

await runProcess('router', async () => {
  const config = loadConfig(process.env, process.argv.slice(2));
  // Several processes on one port (docs/readiness.md, "Workers"); 1 is this process alone, as ever.
  if (config.workers > 1 && cluster.isPrimary) {
    // The primary supervises and plans nothing.
    discardEarlyPlannerThread();
    const { startPrimary } = await import('./cluster/primary.ts');
    return startPrimary(config);
  }
  // What the gateway and the plan warm-up are about to read (gateway.ts, planning/warm-plans.ts).
  prepareEarlyPlannerThread({
    supergraphPath: config.supergraphPath,
    manifestPath: config.planner.warmup === 'manifest' ? config.trustedDocuments.manifestPath : undefined,
  });
  if (config.workers > 1) {
    const { startWorker } = await import('./cluster/worker.ts');
    return startWorker(config);
  }
  const { createRouter } = await import('./server.ts');
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
