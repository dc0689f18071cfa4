/**
 * The payments service, defined once (docs/service-shape.md): config, migrations, how it is built
 * from shared infrastructure (database, provider, webhook inbox, outbox relay, reconciliation,
 * idempotency-key pruning, the consumer of courses' answers, server), and its demo seed. index.ts
 * runs it as its own process; the embedded stack runs it beside the others.
 */
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@campus/kit/core';
import { createRequestSigner, createSessionRevocations } from '@campus/kit/identity';
import { createOutboxRelay, createPubSub, EVENTS, liveUpdateCounts, republishReporter, watchDeadLetters, type OutboxRelayOptions } from '@campus/kit/events';
import { refundChargedAfterFailure } from './charged-after-failure.ts';
import { createStatementTap, defineService, instrumentSubgraph, openServiceDatabase, openServiceEventBus, type RunningService, type ServiceInfra, type SubgraphServer } from '@campus/kit/subgraph';
import { loadConfig, type PaymentsConfig } from './config.ts';
import type { PaymentsDomain } from './domain.ts';
import { CONSUMER, registerEventHandlers } from './event-handlers.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { pruneExpiredKeys } from './idempotency.ts';
import { liveUpdates } from './live-updates.ts';
import { createPoller } from '@campus/kit/core';
import type { PaymentProvider } from './provider/provider.ts';
import { sandboxProvider } from './provider/sandbox.ts';
import { webhookSender } from './provider/webhook-sender.ts';
import { coursesClient } from './remote/courses-client.ts';
import { subgraphClient } from './remote/subgraph-client.ts';
import { usersClient } from './remote/users-client.ts';
import { createReconciliation } from './reconciliation.ts';
import { seed, seedIfEmpty } from './seed.ts';
import { createServer } from './server.ts';
import { createPaymentsStats, exposePaymentsStats, type PaymentsStats } from './stats.ts';
import type { Applied } from './webhooks/apply-event.ts';
import { webhookInbox } from './webhooks/inbox.ts';
import { WEBHOOK_PATH } from './webhooks/route.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface PaymentsService extends RunningService {
  prisma: PrismaClient;
  domain: PaymentsDomain;
  provider: PaymentProvider;
  /** Publishes committed outbox events now (also runs on a timer when the relay is enabled). */
  relayOutbox(): Promise<number>;
  /** Publishes again what courses has not answered in time (also runs on every relay poll). */
  republishUnacknowledged(): Promise<number>;
  /** One reconciliation pass now (also runs every poll interval). */
  reconcile(): Promise<void>;
  /** Deletes idempotency records past their retention now (also runs every minute); returns how many. */
  pruneIdempotencyKeys(): Promise<number>;
  /** Counters an operator should see (stats.ts). */
  stats: PaymentsStats;
}

/** How often expired idempotency keys are looked for: they expire by the hour, not the second. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Payments uses the pub/sub (live payment updates), the revocation store, and the event bus (its
 * outbox relay publishes its payment, audit and privacy events; it consumes courses' answers and
 * users' export and erasure requests).
 * Given no bus, it opens one from REDIS_URL. Without either it refuses to relay: an in-process bus
 * nobody else hears would take its events, mark them published and lose them.
 */
export async function createPaymentsService(
  config: PaymentsConfig,
  infra: ServiceInfra = {},
  logger: Logger = createLogger('payments', config.logLevel),
): Promise<PaymentsService> {
  if (config.outboxRelay && !infra.bus && !config.redisUrl) {
    throw new Error(
      'payments would relay its outbox into an in-process event bus no other service hears, marking its events published and losing them: ' +
        'set REDIS_URL (the bus the other services use), or PAYMENTS_OUTBOX_RELAY=false to leave relaying to another process.',
    );
  }
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  // Query events cost an event object per statement; they let tests and operators count round trips.
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params, e.duration));

  const ownPubSub = infra.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = infra.pubsub ?? ownPubSub!;
  if (!infra.bus && !config.redisUrl) logger.warn('REDIS_URL is not set and the outbox relay is off: this process hears no other service');
  const ownBus = infra.bus ? undefined : openServiceEventBus(config, logger);
  const bus = infra.bus ?? ownBus!;
  const relay = createOutboxRelay({
    db: prisma,
    bus,
    pollIntervalMs: config.pollIntervalMs,
    // Courses answers each with EnrollmentGranted / EnrollmentRevoked (event-handlers.ts).
    acknowledgements: { types: [EVENTS.PaymentSucceeded, EVENTS.PaymentRefunded], timeoutMs: config.ackTimeoutMs },
    onError: (err, context) => logger.warn({ err, context }, 'outbox relay'),
    onRepublish: (row) => reportRepublish?.(row),
  });
  // Counted on the server's metrics registry, which exists once the server does (below).
  let reportRepublish: OutboxRelayOptions['onRepublish'];
  const published = liveUpdateCounts();
  const live = liveUpdates(pubsub, logger, published);
  const stats = createPaymentsStats();

  // The server is created below; the sandbox resolves the webhook's address when it delivers.
  let server: SubgraphServer | undefined;
  const ownWebhookUrl = () => {
    const address = server?.httpServer.address() as AddressInfo | null | undefined;
    return address ? `http://127.0.0.1:${address.port}${WEBHOOK_PATH}` : undefined;
  };
  const provider = sandboxProvider({
    prisma,
    webhooks: webhookSender({
      prisma,
      url: () => config.webhookUrl ?? ownWebhookUrl(),
      secret: config.webhookSecret,
      logger,
      pollIntervalMs: config.pollIntervalMs,
    }),
    delayMs: config.sandboxDelayMs,
  });

  /** After a commit that settled a payment (webhook or reconciliation): relay, live updates, refunds. */
  const onApplied = async (applied: Applied) => {
    if (applied.outbox && config.outboxRelay) void relay.notify();
    for (const payment of applied.changed) await live.paymentChanged(payment);
    if (applied.chargedAfterFailure) await refundChargedAfterFailure({ prisma, provider, live, logger, stats }, applied.chargedAfterFailure);
  };
  const inbox = webhookInbox({ prisma, logger, pollIntervalMs: config.pollIntervalMs, onApplied });
  const reconciliation = createReconciliation({
    prisma,
    provider,
    logger,
    stats,
    afterMs: config.reconcileAfterMs,
    pollIntervalMs: config.pollIntervalMs,
    onApplied,
  });
  const pruneKeys = () => pruneExpiredKeys(prisma, config.idempotencyRetentionMs);
  const pruning = createPoller({
    name: 'idempotency key pruning',
    intervalMs: PRUNE_INTERVAL_MS,
    logger,
    run: async () => {
      const pruned = await pruneKeys();
      if (pruned > 0) logger.info({ pruned }, 'pruned expired idempotency keys');
    },
  });

  // Payments' own identity: courses and users know its calls from the router's and allow them less.
  const signer = createRequestSigner('payments', config.signingKeys);
  const call = (baseUrl: string, service: string) => subgraphClient({ baseUrl, service, signer, logger });
  const courses = coursesClient(call(config.coursesUrl, 'courses'));
  /** After a commit that wrote outbox rows (checkout, refunds, privacy answers): relay them now. */
  const outboxCommitted = () => {
    if (config.outboxRelay) void relay.notify();
  };
  const domain: PaymentsDomain = {
    checkout: {
      prisma,
      provider,
      courses,
      users: usersClient(call(config.usersUrl, 'users')),
      live,
      logger,
      keys: { retentionMs: config.idempotencyRetentionMs },
      outboxCommitted,
    },
    refunds: { prisma, provider, courses, live, logger, policy: config.refundPolicy, outboxCommitted },
  };
  const ownRevocations = infra.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = infra.revocations ?? ownRevocations!;
  server = createServer({ config, prisma, pubsub, domain, inbox, signer, logger, revocations, verifyToken: infra.verifyToken });
  await server.start();
  reportRepublish = republishReporter(server.metrics, logger);
  watchDeadLetters(server.metrics, bus);
  exposePaymentsStats(server.metrics, stats);
  const metrics = await instrumentSubgraph(server, config, {
    statements,
    loaders: prisma,
    liveUpdates: published,
    outbox: prisma,
    consumer: { bus, group: CONSUMER },
  });
  inbox.start();
  provider.start();
  reconciliation.start();
  pruning.start();
  if (config.outboxRelay) relay.start();
  const stopConsuming = await registerEventHandlers(bus, { prisma, logger, outboxCommitted });

  return {
    server,
    prisma,
    domain,
    provider,
    onStatement: statements.onStatement,
    relayOutbox: () => relay.drain(),
    republishUnacknowledged: () => relay.republishUnacknowledged(),
    reconcile: () => reconciliation.run(),
    pruneIdempotencyKeys: pruneKeys,
    stats,
    async close() {
      await stopConsuming();
      await reconciliation.stop();
      await pruning.stop();
      await provider.close();
      await inbox.stop();
      await relay.stop();
      await server.stop();
      await metrics.close();
      await ownBus?.close();
      await ownPubSub?.close();
      await ownRevocations?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}

export const paymentsService = defineService({
  name: 'payments',
  loadConfig,
  migrationsDir: MIGRATIONS_DIR,
  create: createPaymentsService,
  seed: {
    ifEmpty: (service, scale) => seedIfEmpty(service.prisma, scale),
    into: seed,
  },
});
