/**
 * The router as its own process: `npm start -w @campus/router -- --supergraph PATH`.
 * The only file that starts listening; runProcess owns signals, draining and exit.
 */
import { createLogger, listenOn, runProcess, setupTracing } from '@campus/kit/core';
import { loadConfig } from './config.ts';
import { createRouter } from './server.ts';

await runProcess('router', async () => {
  const config = loadConfig(process.env, process.argv.slice(2));
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
