/**
 * The sandbox provider keeps its state in its own tables, as an external provider would: a
 * delayed success scheduled before a restart is delivered after it, a repeated request with the
 * same key is answered from the database, and `retrievePayment` tells where a payment stands even
 * when its webhooks never arrived. "Restart" = the service closes (its timers and memory are gone)
 * and a new one starts on the same database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createMemoryEventBus } from '@campus/kit/events';
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentRequest } from '../src/checkout.ts';
import { pendingPayment } from './fixtures.ts';
import { startPayments, testDatabase, type TestDatabase } from './harness.ts';
import type { Payment } from '../src/generated/prisma/client.ts';
import type { PaymentsService } from '../src/service.ts';

const charge = (service: PaymentsService, payment: Payment, paymentMethod: string) =>
  service.provider.createPayment(paymentRequest(payment, paymentMethod));

describe('the sandbox provider across restarts', () => {
  const bus = createMemoryEventBus();
  let database: TestDatabase;
  let dataDir: string;
  // PGlite keeps its files in dataDir so the second service sees the first one's data.
  const env = (extra: Record<string, string> = {}) => ({ ...(database.env.PAYMENTS_DATABASE_URL ? {} : { PAYMENTS_DATA_DIR: dataDir }), ...extra });

  beforeAll(async () => {
    database = await testDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'campus-payments-sandbox-'));
  });
  afterAll(async () => {
    await bus.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers a delayed success scheduled before a restart after it: the payment SUCCEEDS', async () => {
    const first = await startPayments({ database, bus, env: env({ PAYMENTS_SANDBOX_DELAY_MS: '2500' }) });
    const payment = await pendingPayment(first.service.prisma);
    const { providerPaymentId } = await charge(first.service, payment, 'pm_card_visa_delayed');
    await waitFor(
      () => first.service.prisma.sandboxWebhookDelivery.findFirst({ where: { type: 'payment_intent.processing', deliveredAt: { not: null } } }),
      'the processing notice delivered',
    );
    const owed = () => first.service.prisma.sandboxWebhookDelivery.count({ where: { deliveredAt: null, type: 'payment_intent.succeeded' } });
    expect(await owed()).toBe(1);
    // Stopped while the success is still owed: its timer is gone with the process.
    await first.stop();

    const second = await startPayments({ database, bus, env: env({ PAYMENTS_SANDBOX_DELAY_MS: '2500' }) });
    try {
      expect((await second.service.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })).status).toBe('PENDING');
      const paid = await waitFor(
        () => second.service.prisma.payment.findFirst({ where: { id: payment.id, status: 'SUCCEEDED' }, include: { receipt: true } }),
        'the delayed success after the restart',
      );
      expect(paid).toMatchObject({ providerPaymentId, paymentMethodBrand: 'visa' });
      expect(paid.receipt).not.toBeNull();
      // The sender records the delivery once the receiver answered, which may be after it processed it.
      const rows = await waitFor(async () => {
        const all = await second.service.prisma.sandboxWebhookDelivery.findMany({ where: { event: { path: ['data', 'object', 'id'], equals: providerPaymentId } } });
        return all.every((r) => r.deliveredAt) && all;
      }, 'both deliveries recorded');
      expect(rows.map((r) => [r.type, r.deliveredAt !== null, r.attempts]).sort()).toEqual([
        ['payment_intent.processing', true, 1],
        ['payment_intent.succeeded', true, 1],
      ]);

      // The same key after the restart: the first answer, and nothing sent again.
      const again = await charge(second.service, payment, 'pm_card_visa_delayed');
      expect(again.providerPaymentId).toBe(providerPaymentId);
      expect(await second.service.prisma.sandboxPaymentIntent.count({ where: { paymentId: payment.id } })).toBe(1);
      expect(await second.service.prisma.sandboxWebhookDelivery.count({ where: { deliveredAt: null } })).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('answers retrievePayment from its own state, delayed success included, without any webhook delivered', async () => {
    // Webhooks go nowhere: nothing listens on port 9.
    const h = await startPayments({ database, bus, env: env({ PAYMENTS_SANDBOX_DELAY_MS: '1000', PAYMENTS_WEBHOOK_URL: 'http://127.0.0.1:9/webhooks/payments' }) });
    try {
      const { provider, prisma } = h.service;
      const [visa, declined, delayed, never] = await Promise.all(Array.from({ length: 4 }, () => pendingPayment(prisma)));
      const paid = await charge(h.service, visa!, 'pm_card_visa');
      await charge(h.service, declined!, 'pm_card_chargeDeclinedInsufficientFunds');
      const slow = await charge(h.service, delayed!, 'pm_card_visa_delayed');

      expect(await provider.retrievePayment({ paymentId: visa!.id, providerPaymentId: paid.providerPaymentId })).toEqual({
        status: 'succeeded',
        providerPaymentId: paid.providerPaymentId,
        amount: 4900,
        currency: 'eur',
        method: { brand: 'visa', last4: '4242' },
      });
      // Found by our payment id when the provider's id was never recorded.
      expect(await provider.retrievePayment({ paymentId: declined!.id })).toMatchObject({
        status: 'failed',
        failure: { code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
      });
      expect(await provider.retrievePayment({ paymentId: delayed!.id, providerPaymentId: slow.providerPaymentId })).toMatchObject({ status: 'processing' });
      expect(await provider.retrievePayment({ paymentId: never!.id })).toEqual({ status: 'unknown' });

      await waitFor(async () => (await provider.retrievePayment({ paymentId: delayed!.id })).status === 'succeeded', 'the delayed intent to succeed', 5_000);
      const ours = [paid.providerPaymentId, slow.providerPaymentId];
      const sent = await prisma.sandboxWebhookDelivery.findMany({ where: { deliveredAt: { not: null } } });
      expect(sent.filter((r) => ours.some((id) => JSON.stringify(r.event).includes(id)))).toEqual([]);
      expect(await prisma.payment.count({ where: { id: { in: [visa!.id, declined!.id, delayed!.id] }, status: 'PENDING' } })).toBe(3);
    } finally {
      await h.stop();
    }
  });

  it('lets several instances deliver owed webhooks without sending any row twice', async () => {
    if (!database.env.PAYMENTS_DATABASE_URL) return; // PGlite is one process's database
    const instances = await Promise.all([0, 1, 2].map(() => startPayments({ database, bus, env: env() })));
    try {
      const prisma = instances[0]!.service.prisma;
      const payments = await Promise.all(Array.from({ length: 30 }, () => pendingPayment(prisma)));
      await Promise.all(payments.map((p, i) => charge(instances[i % 3]!.service, p, 'pm_card_visa')));
      await waitFor(
        async () => (await prisma.payment.count({ where: { id: { in: payments.map((p) => p.id) }, status: 'SUCCEEDED' } })) === 30,
        'every payment to succeed',
      );
      const rows = await prisma.sandboxWebhookDelivery.findMany();
      const mine = rows.filter((r) => payments.some((p) => JSON.stringify(r.event).includes(p.id)));
      expect(mine).toHaveLength(30);
      expect(mine.every((r) => r.attempts === 1 && r.deliveredAt)).toBe(true);
      const duplicates = await prisma.providerEvent.count({ where: { id: { in: mine.map((r) => r.id) } } });
      expect(duplicates).toBe(30);
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
    }
  });

  it('refuses a reused key with other parameters, as Stripe does', async () => {
    const h = await startPayments({ database, bus, env: env({ PAYMENTS_WEBHOOK_URL: 'http://127.0.0.1:9/webhooks/payments' }) });
    try {
      const payment = await pendingPayment(h.service.prisma);
      await charge(h.service, payment, 'pm_card_visa');
      await expect(
        h.service.provider.createPayment({ paymentId: randomUUID(), amount: 1, currency: 'EUR', paymentMethod: 'pm_card_visa', description: 'x', idempotencyKey: payment.id }),
      ).rejects.toMatchObject({ code: 'idempotency_error' });
    } finally {
      await h.stop();
    }
  });
});
