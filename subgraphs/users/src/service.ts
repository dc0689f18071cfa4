/**
 * The users service, defined once (docs/service-shape.md): config, migrations, how it is built
 * from shared infrastructure, and its demo seed. index.ts runs it as its own process; the embedded
 * stack runs it beside the others.
 */
import { createLogger, createPoller, type Logger } from '@campus/kit/core';
import { createSessionRevocations } from '@campus/kit/identity';
import { createOutboxRelay, createPubSub, liveUpdateCounts, republishReporter, watchDeadLetters, type OutboxRelay, type OutboxRelayOptions } from '@campus/kit/events';
import { createStatementTap, defineService, instrumentSubgraph, openServiceCatalogGeneration, openServiceDatabase, openServiceEventBus, type RunningService, type ServiceInfra } from '@campus/kit/subgraph';
import { loadConfig, type UsersConfig } from './config.ts';
import { expireDataExports } from './data-export.ts';
import type { UsersDomain } from './domain.ts';
import { startDueErasure } from './erasure.ts';
import { CONSUMER, registerEventHandlers } from './event-handlers.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { liveUpdates } from './live-updates.ts';
import { ACKNOWLEDGED_TYPES } from './outbox.ts';
import { createPasswordVerifier } from './passwords.ts';
import { seed, seedIfEmpty } from './seed.ts';
import { createServer } from './server.ts';
import { loadSigningKeys } from './signing-keys.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface UsersService extends RunningService {
  prisma: PrismaClient;
  domain: UsersDomain;
  /** How many passwords this instance has checked with Argon2 (tests show throttling bounds it). */
  passwordVerifications(): number;
  /** One pass of the privacy poller now: starts due erasures, purges expired exports (also runs every poll interval). */
  runPrivacyJobs(): Promise<void>;
}

/**
 * Users uses the pub/sub (session and export events), the revocation store (it records ended
 * sessions), and the event bus: it orchestrates data exports and account erasures there (its
 * outbox publishes the requests, it consumes the participants' answers, payments' events for the
 * open-payment projection and every service's audit entries), as consumer group "users". Given no
 * bus, it joins one only with REDIS_URL, as courses does: an in-process bus in a process of its own
 * would hear nobody, so without one exports stay PENDING and erasures RUNNING until a bus is
 * configured (their rows wait; nothing is lost). It verifies access tokens with its own keys, so
 * `infra.verifyToken` is not used.
 */
export async function createUsersService(
  config: UsersConfig,
  infra: ServiceInfra = {},
  logger: Logger = createLogger('users', config.logLevel),
): Promise<UsersService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  // Query events cost an event object per statement; they let tests and operators count round trips.
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params, e.duration));
  const keys = await loadSigningKeys({ pem: config.jwtPrivateKeyPem, dataDir: config.dataDir });
  const ownPubSub = infra.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = infra.pubsub ?? ownPubSub!;
  const ownRevocations = infra.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = infra.revocations ?? ownRevocations!;
  const passwords = createPasswordVerifier();
  const published = liveUpdateCounts();
  const ownBus = infra.bus || !config.redisUrl ? undefined : openServiceEventBus(config, logger);
  const bus = infra.bus ?? ownBus;
  if (!bus) logger.warn('REDIS_URL is not set: not relaying export and erasure requests, and not consuming other services\' events');
  // Counted on the server's metrics registry, which exists once the server does (below).
  let reportRepublish: OutboxRelayOptions['onRepublish'];
  const relay: OutboxRelay | undefined = bus
    ? createOutboxRelay({
        db: prisma,
        bus,
        pollIntervalMs: config.pollIntervalMs,
        // Courses and payments answer each (event-handlers.ts); users acknowledges once all did.
        acknowledgements: { types: ACKNOWLEDGED_TYPES, timeoutMs: config.ackTimeoutMs },
        onError: (err, context) => logger.warn({ err, context }, 'outbox relay'),
        onRepublish: (row) => reportRepublish?.(row),
      })
    : undefined;
  const ownGeneration = infra.catalogGeneration ? undefined : openServiceCatalogGeneration(config, logger);
  const catalogGeneration = infra.catalogGeneration ?? ownGeneration!;
  const domain: UsersDomain = {
    prisma,
    sessions: { keys, accessTokenTtlSeconds: config.accessTokenTtlSeconds, refreshTokenTtlDays: config.refreshTokenTtlDays },
    throttle: config.throttle,
    passwords,
    live: liveUpdates(pubsub, logger, published),
    revocations,
    privacy: config.privacy,
    outboxCommitted: () => void relay?.notify(),
    catalogChanged: () => catalogGeneration.bump(),
    logger,
  };
  // Due erasures (one transaction each, until none is due) and expired exports: state is rows, so
  // a poll lost to a restart only delays them.
  const privacyJobs = async () => {
    while (await startDueErasure(domain));
    const expired = await expireDataExports(prisma);
    if (expired > 0) logger.info({ expired }, 'purged expired data exports');
  };
  const privacyPoller = createPoller({ name: 'privacy jobs', intervalMs: config.pollIntervalMs, logger, run: privacyJobs });

  const server = createServer({ config, domain, keys, logger, pubsub, revocations });
  await server.start();
  reportRepublish = republishReporter(server.metrics, logger);
  if (bus) watchDeadLetters(server.metrics, bus);
  const metrics = await instrumentSubgraph(server, config, {
    statements,
    loaders: prisma,
    liveUpdates: published,
    outbox: prisma,
    consumer: bus && { bus, group: CONSUMER },
  });
  relay?.start();
  const stopConsuming = bus ? await registerEventHandlers(bus, { domain, logger }) : undefined;
  privacyPoller.start();
  return {
    server,
    prisma,
    domain,
    onStatement: statements.onStatement,
    passwordVerifications: passwords.verifications,
    runPrivacyJobs: privacyPoller.poke,
    async close() {
      await privacyPoller.stop();
      await stopConsuming?.();
      await relay?.stop();
      await server.stop();
      await metrics.close();
      await ownBus?.close();
      await ownPubSub?.close();
      await ownRevocations?.close();
      await ownGeneration?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}

export const usersService = defineService({
  name: 'users',
  loadConfig,
  migrationsDir: MIGRATIONS_DIR,
  create: createUsersService,
  seed: {
    ifEmpty: (service, scale) => seedIfEmpty(service.prisma, scale),
    into: seed,
  },
});
