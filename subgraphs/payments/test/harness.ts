/**
 * The payments service on its own, for integration tests: a real database (a throwaway PostgreSQL
 * database with TEST_DATABASE_URL, else PGlite, in memory or in `dataDir`), a real in-process bus
 * and pub/sub, its HTTP server on a free port. Nothing else runs: tests that need the courses or
 * users service run the whole stack (packages/stack/test).
 */
import type { AddressInfo } from 'node:net';
import { createLogger, type Env } from '@campus/kit/core';
import { createMemoryEventBus, createMemoryPubSub, type EventBus, type PubSub } from '@campus/kit/events';
import { createTestDatabases, type TestDatabases } from '@campus/test-kit';
import { loadConfig, type PaymentsConfig } from '../src/config.ts';
import { createPaymentsService, type PaymentsService } from '../src/service.ts';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from '../src/webhooks/signature.ts';

export interface PaymentsHarness {
  service: PaymentsService;
  config: PaymentsConfig;
  baseUrl: string;
  bus: EventBus;
  pubsub: PubSub;
  /** Stops the service as a crash would leave it: data stays; bus and pub/sub stay (they are not its own). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** A throwaway PostgreSQL database for payments with TEST_DATABASE_URL; nothing (PGlite) without. */
export type TestDatabase = TestDatabases;
export const testDatabase = (): Promise<TestDatabase> => createTestDatabases(process.env.TEST_DATABASE_URL, ['payments']);

export const TEST_WEBHOOK_SECRET = `whsec_test_${'s'.repeat(32)}`;

export async function startPayments(options: { env?: Env; database?: TestDatabase; bus?: EventBus; pubsub?: PubSub } = {}): Promise<PaymentsHarness> {
  const database = options.database ?? (await testDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PAYMENTS_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    PAYMENTS_POLL_INTERVAL_MS: '50',
    ...database.env,
    ...options.env,
  });
  const bus = options.bus ?? createMemoryEventBus();
  const pubsub = options.pubsub ?? createMemoryPubSub();
  const service = await createPaymentsService(config, { bus, pubsub }, createLogger('payments', process.env.TEST_LOG_LEVEL ?? 'silent'));
  await new Promise<void>((resolve) => service.server.httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = service.server.httpServer.address() as AddressInfo;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await service.close();
  };
  return {
    service,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    bus,
    pubsub,
    stop,
    async close() {
      await stop();
      if (!options.bus) await bus.close();
      if (!options.pubsub) await pubsub.close();
      if (!options.database) await database.drop();
    },
  };
}

/** POSTs a provider event to the webhook, signed with `secret` (the right one unless a test forges). */
export async function deliver(baseUrl: string, event: unknown, { secret = TEST_WEBHOOK_SECRET, now = Date.now(), raw }: { secret?: string; now?: number; raw?: string } = {}) {
  const body = raw ?? JSON.stringify(event);
  const res = await fetch(`${baseUrl}/webhooks/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, body, now) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
