/**
 * The courses service as its own process (production): `npm start -w @campus/courses`.
 * The only file that listens, handles signals or exits.
 *
 * With REDIS_URL it joins the event bus (Redis Streams): it consumes payments' events and relays
 * its outbox. Without it there is no bus to join, since an in-process bus in a process of its own
 * would hear nobody; outbox rows then wait until a bus is configured.
 */
import { createLogger } from '@campus/kit/core';
import { createEventBus } from '@campus/kit/events';
import { loadConfig } from './config.ts';
import { createCoursesService } from './service.ts';

const config = loadConfig(process.env);
const logger = createLogger('courses', config.logLevel);
const bus = config.redisUrl ? createEventBus({ redisUrl: config.redisUrl, prefix: config.redisEventsPrefix, logger }) : undefined;
if (!bus) logger.warn('REDIS_URL is not set: not consuming payment events and not relaying the outbox');
const service = await createCoursesService(config, logger, { bus });
service.server.httpServer.listen(config.port, () => logger.info({ port: config.port }, 'courses subgraph listening'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    logger.info({ signal }, 'draining');
    await service.close();
    await bus?.close();
    process.exit(0);
  });
}
