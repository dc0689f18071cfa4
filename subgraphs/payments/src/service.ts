/**
 * Assembles the payments service from its config: database (migrated), Prisma client, provider,
 * webhook inbox, outbox relay, server. Used by index.ts (its own process) and by the embedded
 * stack (all services in one), which hands in the shared pub/sub and event bus.
 */
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@campus/kit/core';
import { createRequestSigner, createSessionRevocations, type SessionRevocations } from '@campus/kit/identity';
import { createOutboxRelay, type EventBus, type PubSub } from '@campus/kit/events';
import { openServiceDatabase, type SubgraphServer } from '@campus/kit/subgraph';
import type { PaymentsConfig } from './config.ts';
import type { PaymentsDomain } from './context.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { liveUpdates } from './live-updates.ts';
import type { PaymentProvider } from './provider/provider.ts';
import { sandboxProvider } from './provider/sandbox.ts';
import { webhookSender } from './provider/webhook-sender.ts';
import { coursesClient } from './remote/courses-client.ts';
import { subgraphClient } from './remote/subgraph-client.ts';
import { usersClient } from './remote/users-client.ts';
import { createServer } from './server.ts';
import { webhookInbox } from './webhooks/inbox.ts';
import { WEBHOOK_PATH } from './webhooks/route.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface PaymentsInfra {
  pubsub: PubSub;
  bus: EventBus;
  /**
   * Ended sessions, as the users service records them. The embedded stack passes the one store it
   * shares; absent, the service opens its own from config.sessions (Redis or in memory).
   */
  revocations?: SessionRevocations;
}

export interface PaymentsService {
  server: SubgraphServer;
  prisma: PrismaClient;
  provider: PaymentProvider;
  /** Publishes committed outbox events now (also runs on a timer when the relay is enabled). */
  relayOutbox(): Promise<number>;
  close(): Promise<void>;
}

export async function createPaymentsService(
  config: PaymentsConfig,
  infra: PaymentsInfra,
  logger: Logger = createLogger('payments', config.logLevel),
): Promise<PaymentsService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  const prisma = new PrismaClient({ adapter: db.adapter });

  const relay = createOutboxRelay({
    db: prisma,
    bus: infra.bus,
    pollIntervalMs: config.pollIntervalMs,
    onError: (err, context) => logger.warn({ err, context }, 'outbox relay'),
  });
  const live = liveUpdates(infra.pubsub, logger);
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
  server = createServer({ config, prisma, pubsub: infra.pubsub, domain, inbox, signer, logger, revocations });
  await server.start();
  inbox.start();
  if (config.outboxRelay) relay.start();

  return {
    server,
    prisma,
    provider,
    relayOutbox: () => relay.drain(),
    async close() {
      await provider.close();
      await inbox.stop();
      await relay.stop();
      await server.stop();
      await ownRevocations?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}
