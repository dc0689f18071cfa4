/**
 * POST /webhooks/payments against the real service and database: only correctly signed, fresh
 * deliveries change anything; duplicates and out-of-order deliveries change nothing more; an
 * accepted success issues a receipt and puts PaymentSucceeded on the bus through the outbox.
 */
import type { DomainEvent } from '@campus/kit/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@campus/test-kit';
import { deliver, startPayments, type PaymentsHarness } from './harness.ts';
import { intentEvent, pendingPayment } from './fixtures.ts';

describe('the payments webhook', () => {
  let h: PaymentsHarness;
  const published: DomainEvent[] = [];
  const prisma = () => h.service.prisma;

  beforeAll(async () => {
    h = await startPayments();
    await h.bus.consume('test-observer', ['PaymentSucceeded', 'PaymentRefunded'], async (e) => void published.push(e));
  });
  afterAll(async () => {
    await h?.close();
  });

  const statusOf = async (id: string) => (await prisma().payment.findUniqueOrThrow({ where: { id } })).status;
  const processed = (eventId: string) => prisma().providerEvent.findFirst({ where: { id: eventId, processedAt: { not: null } } });

  it('refuses a forged signature with 400 and changes nothing', async () => {
    const payment = await pendingPayment(prisma());
    const event = intentEvent('payment_intent.succeeded', payment);
    const res = await deliver(h.baseUrl, event, { secret: `whsec_forged_${'f'.repeat(32)}` });
    expect(res.status).toBe(400);
    expect(await prisma().providerEvent.count({ where: { id: event.id } })).toBe(0);
    expect(await statusOf(payment.id)).toBe('PENDING');
  });

  it('refuses a stale signature (replayed after more than 300 s) with 400', async () => {
    const payment = await pendingPayment(prisma());
    const res = await deliver(h.baseUrl, intentEvent('payment_intent.succeeded', payment), { now: Date.now() - 301_000 });
    expect(res.status).toBe(400);
    expect(await statusOf(payment.id)).toBe('PENDING');
  });

  it('refuses a missing signature, a signed body that is not JSON and one that is not an event', async () => {
    const noSig = await fetch(`${h.baseUrl}/webhooks/payments`, { method: 'POST', body: '{}' });
    expect(noSig.status).toBe(400);
    expect((await deliver(h.baseUrl, null, { raw: 'not json' })).status).toBe(400);
    expect((await deliver(h.baseUrl, { hello: 'world' })).status).toBe(400);
  });

  it('answers an oversized body with 413 and keeps serving', async () => {
    const res = await deliver(h.baseUrl, null, { raw: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }) });
    expect(res.status).toBe(413);
    expect((await fetch(`${h.baseUrl}/health`)).status).toBe(200);
  });

  it('marks a payment SUCCEEDED, issues a receipt and publishes PaymentSucceeded once', async () => {
    const payment = await pendingPayment(prisma());
    const event = intentEvent('payment_intent.succeeded', payment);
    const res = await deliver(h.baseUrl, event);
    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false } });

    await waitFor(() => processed(event.id), 'the event to be processed');
    const after = await prisma().payment.findUniqueOrThrow({ where: { id: payment.id }, include: { receipt: true } });
    expect(after).toMatchObject({ status: 'SUCCEEDED', paymentMethodBrand: 'visa', paymentMethodLast4: '4242', version: 2 });
    expect(after.receipt).toMatchObject({ total: 4900, currency: 'EUR', buyerName: 'Sam Student', description: 'TypeScript from Scratch' });
    expect(after.receipt!.number).toMatch(/^R-\d{4}-\d{6}$/);

    const mine = await waitFor(() => published.find((e) => e.payload.paymentId === payment.id), 'PaymentSucceeded on the bus');
    expect(mine).toMatchObject({ type: 'PaymentSucceeded', payload: { paymentId: payment.id, userId: payment.userId, courseId: payment.courseId } });
  });

  it('answers a duplicate delivery with 200 and applies it once', async () => {
    const payment = await pendingPayment(prisma());
    const event = intentEvent('payment_intent.succeeded', payment);
    const deliveries = await Promise.all([deliver(h.baseUrl, event), deliver(h.baseUrl, event), deliver(h.baseUrl, event)]);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200]);
    expect(deliveries.filter((d) => d.body.duplicate === false)).toHaveLength(1);
    await waitFor(() => processed(event.id), 'the event to be processed');
    // And again later, after processing:
    expect((await deliver(h.baseUrl, event)).body).toEqual({ received: true, duplicate: true });

    expect(await prisma().receipt.count({ where: { paymentId: payment.id } })).toBe(1);
    expect(await prisma().outboxEvent.count({ where: { payload: { path: ['paymentId'], equals: payment.id } } })).toBe(1);
  });

  it('ignores a failure or processing notice that arrives after the success (out of order)', async () => {
    const payment = await pendingPayment(prisma());
    const success = intentEvent('payment_intent.succeeded', payment);
    await deliver(h.baseUrl, success);
    await waitFor(() => processed(success.id), 'the success');
    for (const late of [intentEvent('payment_intent.payment_failed', payment), intentEvent('payment_intent.processing', payment)]) {
      await deliver(h.baseUrl, late);
      await waitFor(() => processed(late.id), late.type);
    }
    const after = await prisma().payment.findUniqueOrThrow({ where: { id: payment.id } });
    expect(after).toMatchObject({ status: 'SUCCEEDED', failureReason: null, purchaseLock: `${payment.userId}:${payment.courseId}` });
  });

  it('marks a declined payment FAILED with the reason and releases the purchase for another try', async () => {
    const payment = await pendingPayment(prisma());
    const event = intentEvent('payment_intent.payment_failed', payment);
    await deliver(h.baseUrl, event);
    await waitFor(() => processed(event.id), 'the failure');
    const after = await prisma().payment.findUniqueOrThrow({ where: { id: payment.id } });
    expect(after).toMatchObject({ status: 'FAILED', failureCode: 'generic_decline', failureReason: 'Your card was declined.', purchaseLock: null });
    // A success that arrives after the failure does not resurrect it.
    const late = intentEvent('payment_intent.succeeded', payment);
    await deliver(h.baseUrl, late);
    await waitFor(() => processed(late.id), 'the late success');
    expect(await statusOf(payment.id)).toBe('FAILED');
  });

  it('does not fulfil a success for another amount than the payment asked for', async () => {
    const payment = await pendingPayment(prisma());
    const event = intentEvent('payment_intent.succeeded', payment, { amount: 1 });
    await deliver(h.baseUrl, event);
    const row = await waitFor(() => processed(event.id), 'the event');
    expect(row.lastError).toMatch(/differs/);
    expect(await statusOf(payment.id)).toBe('PENDING');
  });

  it('stores and acknowledges event types it does not act on', async () => {
    const event = { id: 'evt_unhandled_1', type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_1' } } };
    expect((await deliver(h.baseUrl, event)).status).toBe(200);
    const row = await waitFor(() => processed(event.id), 'the event');
    expect(row.lastError).toMatch(/ignored/);
  });

  it('numbers receipts without gaps or duplicates when payments succeed concurrently', async () => {
    const payments = await Promise.all(Array.from({ length: 8 }, () => pendingPayment(prisma())));
    const events = payments.map((p) => intentEvent('payment_intent.succeeded', p));
    await Promise.all(events.map((e) => deliver(h.baseUrl, e)));
    await waitFor(async () => (await prisma().receipt.count({ where: { paymentId: { in: payments.map((p) => p.id) } } })) === 8, 'receipts');
    const numbers = (await prisma().receipt.findMany({ orderBy: { number: 'asc' } })).map((r) => Number(r.number.slice(-6)));
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
  });
});
