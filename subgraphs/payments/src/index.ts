/**
 * The payments service as its own process (production): `npm start -w @campus/payments`.
 * The only file that listens, handles signals or exits. With REDIS_URL the event bus is Redis
 * Streams and pub/sub is Redis, shared with the other services' processes.
 */
import { createLogger } from '@campus/kit/core';
import { createEventBus, createPubSub } from '@campus/kit/events';
import { loadConfig } from './config.ts';
import { createPaymentsService } from './service.ts';

const config = loadConfig(process.env);
const logger = createLogger('payments', config.logLevel);
if (!config.redisUrl) logger.warn('REDIS_URL is not set: events stay in this process and reach no other service');
const pubsub = createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
const bus = createEventBus({ redisUrl: config.redisUrl, prefix: config.redisEventsPrefix, logger });
const service = await createPaymentsService(config, { pubsub, bus }, logger);
service.server.httpServer.listen(config.port, () => logger.info({ port: config.port }, 'payments subgraph listening'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    logger.info({ signal }, 'draining');
    await service.close();
    await bus.close();
    await pubsub.close();
    process.exit(0);
  });
}
