/**
 * The payments service on its own, for integration tests: a real database (a throwaway PostgreSQL
 * database with TEST_DATABASE_URL, else PGlite, in memory or in `dataDir`), a real in-process bus
 * and pub/sub, its HTTP server on a free port. Nothing else runs: tests that need the courses or
 * users service run the whole stack (packages/stack/test).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLogger, type Env } from '@campus/kit/core';
import { createMemoryEventBus, createMemoryPubSub, type EventBus, type PubSub } from '@campus/kit/events';
import pg from 'pg';
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

export interface TestDatabase {
  env: Env;
  drop(): Promise<void>;
}

export async function testDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { env: {}, drop: async () => {} };
  const name = `campus_test_payments_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { PAYMENTS_DATABASE_URL: url.toString() },
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

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

/** Polls `check` until it returns something other than undefined/null/false; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<Exclude<T, false>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as NonNullable<Exclude<T, false>>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
