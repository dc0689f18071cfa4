/**
 * What survives a crash. A process that committed a payment's success (and its outbox row) but
 * died before relaying it still gets PaymentSucceeded onto the bus: the next process relays it.
 * A webhook event that was stored and answered but not yet processed is processed after a restart.
 * "Crash" = the service stops without the relay or inbox having run; its database stays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryEventBus, type DomainEvent } from '@campus/kit/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@campus/test-kit';
import { deliver, startPayments, testDatabase, type TestDatabase } from './harness.ts';
import { intentEvent, pendingPayment } from './fixtures.ts';

describe('payments after a crash', () => {
  const bus = createMemoryEventBus();
  const published: DomainEvent[] = [];
  let database: TestDatabase;
  let dataDir: string;
  // PGlite keeps its files in dataDir so a second process sees the first one's data.
  const env = () => (database.env.PAYMENTS_DATABASE_URL ? {} : { PAYMENTS_DATA_DIR: dataDir });

  beforeAll(async () => {
    database = await testDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'campus-payments-'));
    await bus.consume('courses', ['PaymentSucceeded'], async (e) => void published.push(e));
  });
  afterAll(async () => {
    await bus.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers PaymentSucceeded committed by a process that crashed before publishing it', async () => {
    // First process: its relay does not run, as if it died right after the commit.
    const first = await startPayments({ database, bus, env: { ...env(), PAYMENTS_OUTBOX_RELAY: 'false' } });
    const payment = await pendingPayment(first.service.prisma);
    const event = intentEvent('payment_intent.succeeded', payment);
    expect((await deliver(first.baseUrl, event)).status).toBe(200);
    await waitFor(
      () => first.service.prisma.payment.findFirst({ where: { id: payment.id, status: 'SUCCEEDED' } }),
      'the success to be committed',
    );
    expect(await first.service.prisma.outboxEvent.count({ where: { publishedAt: null } })).toBe(1);
    expect(published).toHaveLength(0);
    await first.stop();

    // Second process on the same database: its relay finds the row and publishes it.
    const second = await startPayments({ database, bus, env: env() });
    try {
      const delivered = await waitFor(() => published.find((e) => e.payload.paymentId === payment.id), 'PaymentSucceeded after the restart');
      expect(delivered.payload).toMatchObject({ userId: payment.userId, courseId: payment.courseId });
      await waitFor(async () => (await second.service.prisma.outboxEvent.count({ where: { publishedAt: null } })) === 0, 'the row marked published');
    } finally {
      await second.stop();
    }
  });

  it('processes a webhook event that was stored but not yet processed when the process stopped', async () => {
    // A long poll interval: the first process drains its inbox once at start and then only when
    // the webhook tells it to. The row is written as the webhook writes it, without that nudge,
    // and the process stops: stored and acknowledged, never processed.
    const first = await startPayments({ database, bus, env: { ...env(), PAYMENTS_POLL_INTERVAL_MS: '60000' } });
    const payment = await pendingPayment(first.service.prisma);
    const event = intentEvent('payment_intent.succeeded', payment);
    await first.service.prisma.providerEvent.create({ data: { id: event.id, type: event.type, payload: event } });
    await first.stop();

    const second = await startPayments({ database, bus, env: env() });
    try {
      await waitFor(() => second.service.prisma.payment.findFirst({ where: { id: payment.id, status: 'SUCCEEDED' } }), 'the stored event to be processed');
      await waitFor(() => published.find((e) => e.payload.paymentId === payment.id), 'PaymentSucceeded');
    } finally {
      await second.stop();
    }
  });
});
