/**
 * Reconciliation settles payments whose webhooks never arrived (src/reconciliation.ts). Here the
 * sandbox's webhooks go nowhere (nothing listens on port 9), so the only way a payment leaves
 * PENDING is reconciliation asking the provider.
 */
import type { DomainEvent } from '@campus/kit/events';
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentRequest } from '../src/checkout.ts';
import type { Payment } from '../src/generated/prisma/client.ts';
import { pendingPayment } from './fixtures.ts';
import { startPayments, type PaymentsHarness } from './harness.ts';

describe('reconciliation of payments left PENDING', () => {
  let h: PaymentsHarness;
  const published: DomainEvent[] = [];
  const prisma = () => h.service.prisma;

  beforeAll(async () => {
    h = await startPayments({
      env: { PAYMENTS_RECONCILE_AFTER_MS: '2000', PAYMENTS_SANDBOX_DELAY_MS: '600000', PAYMENTS_WEBHOOK_URL: 'http://127.0.0.1:9/webhooks/payments' },
    });
    await h.bus.consume('test-observer', ['PaymentSucceeded'], async (e) => void published.push(e));
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A payment checkout created a while ago, handed to the provider with `paymentMethod` (or never). */
  async function overdue(paymentMethod: string | null): Promise<Payment> {
    const payment = await pendingPayment(prisma());
    const created = paymentMethod ? await h.service.provider.createPayment(paymentRequest(payment, paymentMethod)) : null;
    // Aged only once the provider has it: from then on the poll may reconcile it.
    return prisma().payment.update({
      where: { id: payment.id },
      data: { providerPaymentId: created?.providerPaymentId ?? null, createdAt: new Date(Date.now() - 60_000) },
    });
  }
  const settled = (id: string) => waitFor(() => prisma().payment.findFirst({ where: { id, status: { not: 'PENDING' } }, include: { receipt: true } }), `payment ${id} settled`);

  it('settles a payment the provider charged as the succeeded webhook would: receipt, PaymentSucceeded, purchase kept', async () => {
    const payment = await overdue('pm_card_visa');
    await h.service.reconcile();
    const after = await settled(payment.id);
    expect(after).toMatchObject({ status: 'SUCCEEDED', paymentMethodBrand: 'visa', paymentMethodLast4: '4242', purchaseLock: payment.purchaseLock });
    expect(after.receipt).toMatchObject({ total: 4900, currency: 'EUR' });
    await waitFor(() => published.find((e) => e.payload.paymentId === payment.id), 'PaymentSucceeded on the bus');
  });

  it('fails a declined payment with the provider reason and frees the purchase', async () => {
    const payment = await overdue('pm_card_chargeDeclinedExpiredCard');
    await h.service.reconcile();
    expect(await settled(payment.id)).toMatchObject({
      status: 'FAILED',
      failureCode: 'expired_card',
      failureReason: 'Your card has expired.',
      purchaseLock: null,
      receipt: null,
    });
  });

  it('fails a payment the provider never heard of as provider_unreachable, charging nothing', async () => {
    const payment = await overdue(null);
    await h.service.reconcile();
    expect(await settled(payment.id)).toMatchObject({ status: 'FAILED', failureCode: 'provider_unreachable', purchaseLock: null, receipt: null });
    expect(await h.service.provider.retrievePayment({ paymentId: payment.id })).toEqual({ status: 'unknown' });
  });

  it('leaves a payment still processing at the provider, and one younger than the threshold', async () => {
    const processing = await overdue('pm_card_visa_delayed');
    const young = await pendingPayment(prisma());
    await h.service.reconcile();
    await h.service.reconcile();
    const statuses = await prisma().payment.findMany({ where: { id: { in: [processing.id, young.id] } }, select: { status: true } });
    expect(statuses.map((s) => s.status)).toEqual(['PENDING', 'PENDING']);
  });

  it('settles on its own poll, and counts what it settled', async () => {
    const before = { ...h.service.stats.reconciled };
    const [charged, unknown] = [await overdue('pm_card_mastercard'), await overdue(null)];
    expect((await settled(charged.id)).status).toBe('SUCCEEDED');
    expect((await settled(unknown.id)).status).toBe('FAILED');
    expect(h.service.stats.reconciled.succeeded).toBeGreaterThan(before.succeeded);
    expect(h.service.stats.reconciled.unknown).toBeGreaterThan(before.unknown);
  });

  it('settles each payment once when passes run concurrently', async () => {
    const payments = await Promise.all(Array.from({ length: 5 }, () => overdue('pm_card_visa')));
    await Promise.all([h.service.reconcile(), h.service.reconcile(), h.service.reconcile()]);
    for (const p of payments) await settled(p.id);
    const ids = payments.map((p) => p.id);
    expect(await prisma().receipt.count({ where: { paymentId: { in: ids } } })).toBe(5);
    expect(await prisma().outboxEvent.count({ where: { OR: ids.map((id) => ({ payload: { path: ['paymentId'], equals: id } })) } })).toBe(5);
  });
});
