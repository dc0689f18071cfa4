/**
 * The router as its own process: `npm start -w @campus/router -- --supergraph PATH`.
 * The only file that listens, handles signals or exits.
 */
import { createLogger } from '@campus/kit/core';
import { loadConfig } from './config.ts';
import { createRouter } from './server.ts';

const config = loadConfig(process.env, process.argv.slice(2));
const logger = createLogger('router', config.logLevel);
const router = createRouter(config, { logger });
router.httpServer.listen(config.port, () => logger.info({ port: config.port, supergraph: config.supergraphPath }, 'router listening'));
await router.start();
logger.info(`router serving GraphQL at http://localhost:${config.port}/graphql`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    logger.info({ signal }, 'draining');
    await router.stop();
    process.exit(0);
  });
}
