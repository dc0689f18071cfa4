/**
 * The payments service, defined once (docs/service-shape.md): config, migrations, how it is built
 * from shared infrastructure (database, provider, webhook inbox, outbox relay, server), and its
 * demo seed. index.ts runs it as its own process; the embedded stack runs it beside the others.
 */
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@campus/kit/core';
import { createRequestSigner, createSessionRevocations } from '@campus/kit/identity';
import { createEventBus, createOutboxRelay, createPubSub } from '@campus/kit/events';
import { createStatementTap, defineService, openServiceDatabase, type RunningService, type ServiceInfra, type SubgraphServer } from '@campus/kit/subgraph';
import { loadConfig, type PaymentsConfig } from './config.ts';
import type { PaymentsDomain } from './domain.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { liveUpdates } from './live-updates.ts';
import type { PaymentProvider } from './provider/provider.ts';
import { sandboxProvider } from './provider/sandbox.ts';
import { webhookSender } from './provider/webhook-sender.ts';
import { coursesClient } from './remote/courses-client.ts';
import { subgraphClient } from './remote/subgraph-client.ts';
import { usersClient } from './remote/users-client.ts';
import { seed, seedIfEmpty } from './seed.ts';
import { createServer } from './server.ts';
import { webhookInbox } from './webhooks/inbox.ts';
import { WEBHOOK_PATH } from './webhooks/route.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface PaymentsService extends RunningService {
  prisma: PrismaClient;
  domain: PaymentsDomain;
  provider: PaymentProvider;
  /** Publishes committed outbox events now (also runs on a timer when the relay is enabled). */
  relayOutbox(): Promise<number>;
}

/**
 * Payments uses the pub/sub (live payment updates), the revocation store, and the event bus (its
 * outbox relay publishes PaymentSucceeded and PaymentRefunded). Given no bus, it opens one from
 * REDIS_URL, or in process without it: then its events reach no other service.
 */
export async function createPaymentsService(
  config: PaymentsConfig,
  infra: ServiceInfra = {},
  logger: Logger = createLogger('payments', config.logLevel),
): Promise<PaymentsService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  // Query events cost an event object per statement; they let tests and operators count round trips.
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params));

  const ownPubSub = infra.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = infra.pubsub ?? ownPubSub!;
  if (!infra.bus && !config.redisUrl) logger.warn('REDIS_URL is not set: events stay in this process and reach no other service');
  const ownBus = infra.bus ? undefined : createEventBus({ redisUrl: config.redisUrl, prefix: config.redisEventsPrefix, logger });
  const bus = infra.bus ?? ownBus!;
  const relay = createOutboxRelay({
    db: prisma,
    bus,
    pollIntervalMs: config.pollIntervalMs,
    onError: (err, context) => logger.warn({ err, context }, 'outbox relay'),
  });
  const live = liveUpdates(pubsub, logger);
  const inbox = webhookInbox({
    prisma,
    logger,
    pollIntervalMs: config.pollIntervalMs,
    onApplied: async (changed, outbox) => {
      if (outbox && config.outboxRelay) void relay.notify();
      for (const payment of changed) await live.paymentChanged(payment);
    },
  });

  // The server is created below; the sandbox resolves the webhook's address when it delivers.
  let server: SubgraphServer | undefined;
  const ownWebhookUrl = () => {
    const address = server?.httpServer.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('payments is not listening yet; no webhook address');
    return `http://127.0.0.1:${address.port}${WEBHOOK_PATH}`;
  };
  const provider = sandboxProvider({
    webhooks: webhookSender({ url: () => config.webhookUrl ?? ownWebhookUrl(), secret: config.webhookSecret, logger }),
    delayMs: config.sandboxDelayMs,
  });

  // Payments' own identity: courses and users know its calls from the router's and allow them less.
  const signer = createRequestSigner('payments', config.signingKeys);
  const call = (baseUrl: string, service: string) => subgraphClient({ baseUrl, service, signer, logger });
  const courses = coursesClient(call(config.coursesUrl, 'courses'));
  const domain: PaymentsDomain = {
    checkout: { prisma, provider, courses, users: usersClient(call(config.usersUrl, 'users')), live, logger },
    refunds: { prisma, provider, courses, live, logger, policy: config.refundPolicy },
  };
  const ownRevocations = infra.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = infra.revocations ?? ownRevocations!;
  server = createServer({ config, prisma, pubsub, domain, inbox, signer, logger, revocations, verifyToken: infra.verifyToken });
  await server.start();
  inbox.start();
  if (config.outboxRelay) relay.start();

  return {
    server,
    prisma,
    domain,
    provider,
    onStatement: statements.onStatement,
    relayOutbox: () => relay.drain(),
    async close() {
      await provider.close();
      await inbox.stop();
      await relay.stop();
      await server.stop();
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
