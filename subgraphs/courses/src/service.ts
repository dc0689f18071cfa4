/**
 * The courses service, defined once (docs/service-shape.md): config, migrations, how it is built
 * from shared infrastructure, and its demo seed. index.ts runs it as its own process; the embedded
 * stack runs it beside the others.
 */
import { createLogger, type Logger } from '@campus/kit/core';
import { createSessionRevocations } from '@campus/kit/identity';
import { createOutboxRelay, watchDeadLetters, createPubSub, liveUpdateCounts, type OutboxRelay } from '@campus/kit/events';
import { createStatementTap, defineService, instrumentSubgraph, openServiceCatalogGeneration, openServiceDatabase, openServiceEventBus, type RunningService, type ServiceInfra } from '@campus/kit/subgraph';
import { loadConfig, type CoursesConfig } from './config.ts';
import type { CoursesDomain } from './domain.ts';
import { registerEventHandlers } from './event-handlers.ts';
import { CONSUMER } from './fulfillment.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { liveUpdates } from './live-updates.ts';
import { seed, seedIfEmpty } from './seed.ts';
import { createServer } from './server.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface CoursesService extends RunningService {
  prisma: PrismaClient;
  domain: CoursesDomain;
}

/**
 * Courses uses the pub/sub (live updates), the revocation store, and the event bus: it consumes
 * payments' events (enrollment after purchase, revocation after refund) and relays its outbox
 * (CourseUpdated) onto it. Given no bus, it joins one only with REDIS_URL: an in-process bus in a
 * process of its own would hear nobody, so without one its outbox rows wait until a bus is
 * configured.
 */
export async function createCoursesService(
  config: CoursesConfig,
  infra: ServiceInfra = {},
  logger: Logger = createLogger('courses', config.logLevel),
): Promise<CoursesService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  // Query events cost an event object per statement; they let tests and operators count round trips.
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params, e.duration));

  const ownPubSub = infra.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = infra.pubsub ?? ownPubSub!;
  const ownBus = infra.bus || !config.redisUrl ? undefined : openServiceEventBus(config, logger);
  const bus = infra.bus ?? ownBus;
  if (!bus) logger.warn('REDIS_URL is not set: not consuming payment events and not relaying the outbox');
  const relay: OutboxRelay | undefined = bus
    ? createOutboxRelay({ db: prisma, bus, onError: (err, context) => logger.warn({ err, context }, 'outbox relay') })
    : undefined;
  const published = liveUpdateCounts();
  const ownGeneration = infra.catalogGeneration ? undefined : openServiceCatalogGeneration(config, logger);
  const catalogGeneration = infra.catalogGeneration ?? ownGeneration!;
  const domain: CoursesDomain = {
    prisma,
    live: liveUpdates(pubsub, logger, published),
    outboxCommitted: () => void relay?.notify(),
    catalogChanged: () => catalogGeneration.bump(),
    bus,
    logger,
  };
  relay?.start();
  const stopConsuming = bus ? await registerEventHandlers(bus, { domain, logger }) : undefined;

  const ownRevocations = infra.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = infra.revocations ?? ownRevocations!;
  const server = createServer({ config, domain, logger, pubsub, revocations, verifyToken: infra.verifyToken });
  await server.start();
  if (bus) watchDeadLetters(server.metrics, bus);
  const metrics = await instrumentSubgraph(server, config, {
    statements,
    loaders: prisma,
    liveUpdates: published,
    // Without a bus the rows wait: the backlog is what shows it.
    outbox: prisma,
    consumer: bus && { bus, group: CONSUMER },
  });
  return {
    server,
    prisma,
    domain,
    onStatement: statements.onStatement,
    async close() {
      await stopConsuming?.();
      await relay?.stop();
      await server.stop();
      await metrics.close();
      await ownPubSub?.close();
      await ownBus?.close();
      await ownRevocations?.close();
      await ownGeneration?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}

export const coursesService = defineService({
  name: 'courses',
  loadConfig,
  migrationsDir: MIGRATIONS_DIR,
  create: createCoursesService,
  seed: {
    ifEmpty: (service, scale) => seedIfEmpty(service.prisma, scale),
    into: seed,
  },
});
