/**
 * The users service as its own process (production): `npm start -w @campus/users`.
 * The only file that listens, handles signals or exits.
 */
import { createLogger } from '@campus/kit/core';
import { loadConfig } from './config.ts';
import { createUsersService } from './service.ts';

const config = loadConfig(process.env);
const logger = createLogger('users', config.logLevel);
const service = await createUsersService(config, logger);
service.server.httpServer.listen(config.port, () => logger.info({ port: config.port }, 'users subgraph listening'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    logger.info({ signal }, 'draining');
    await service.close();
    process.exit(0);
  });
}
