/**
 * Assembles the courses service from its config: database (migrated), Prisma client, pub/sub,
 * event consumption and the outbox relay (when given a bus), server. Used by index.ts (its own
 * process) and by the embedded stack (all services in one).
 */
import { createLogger, type Logger } from '@campus/kit/core';
import { createSessionRevocations, type SessionRevocations, type TokenVerifier } from '@campus/kit/identity';
import { createOutboxRelay, createPubSub, type EventBus, type OutboxRelay, type PubSub } from '@campus/kit/events';
import { createStatementTap, openServiceDatabase, type StatementTap, type SubgraphServer } from '@campus/kit/subgraph';
import type { CoursesConfig } from './config.ts';
import type { CoursesDomain } from './domain.ts';
import { registerEventHandlers } from './event-handlers.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { liveEvents } from './live-events.ts';
import { createServer } from './server.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface CoursesServiceDeps {
  /**
   * The pub/sub subscriptions publish on. The embedded stack passes the one all its services share;
   * absent, the service opens its own from REDIS_URL (or in memory) and closes it on close.
   */
  pubsub?: PubSub;
  /**
   * The event bus: when given, the service consumes payments' events (enrollment after purchase,
   * revocation after refund) and relays its outbox (CourseUpdated) onto it.
   */
  bus?: EventBus;
  /** How access tokens are verified; defaults to the users service's JWKS at config.jwksUrl. */
  verifyToken?: TokenVerifier;
  /**
   * Ended sessions, as the users service records them. The embedded stack passes the one store it
   * shares; absent, the service opens its own from config.sessions (Redis or in memory).
   */
  revocations?: SessionRevocations;
}

export interface CoursesService {
  server: SubgraphServer;
  prisma: PrismaClient;
  domain: CoursesDomain;
  /** Calls `listener` with every SQL statement the service sends its database (and its parameters, JSON); returns an unsubscribe. */
  onStatement: StatementTap['onStatement'];
  close(): Promise<void>;
}

export async function createCoursesService(
  config: CoursesConfig,
  logger: Logger = createLogger('courses', config.logLevel),
  deps: CoursesServiceDeps = {},
): Promise<CoursesService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  // Query events cost an event object per statement; they let tests and operators count round trips.
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params));

  const ownPubSub = deps.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = deps.pubsub ?? ownPubSub!;
  const relay: OutboxRelay | undefined = deps.bus
    ? createOutboxRelay({ db: prisma, bus: deps.bus, onError: (err, context) => logger.warn({ err, context }, 'outbox relay') })
    : undefined;
  const domain: CoursesDomain = {
    prisma,
    live: liveEvents(pubsub, logger),
    outboxCommitted: () => void relay?.notify(),
    logger,
  };
  relay?.start();
  const stopConsuming = deps.bus ? await registerEventHandlers(deps.bus, { domain, logger }) : undefined;

  const ownRevocations = deps.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = deps.revocations ?? ownRevocations!;
  const server = createServer({ config, domain, logger, pubsub, revocations, verifyToken: deps.verifyToken });
  await server.start();
  return {
    server,
    prisma,
    domain,
    onStatement: statements.onStatement,
    async close() {
      await stopConsuming?.();
      await relay?.stop();
      await server.stop();
      await ownPubSub?.close();
      await ownRevocations?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}
