/**
 * A success for a payment that already FAILED (src/charged-after-failure.ts): the customer was
 * charged and gets nothing for it, so payments refunds it through the provider by itself, once,
 * however often the success arrives. The payment stays FAILED: no receipt, no enrollment event.
 */
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHARGED_AFTER_FAILURE_REASON } from '../src/charged-after-failure.ts';
import { intentEvent, pendingPayment } from './fixtures.ts';
import { deliver, startPayments, type PaymentsHarness } from './harness.ts';

describe('a success after the payment had failed', () => {
  let h: PaymentsHarness;
  const prisma = () => h.service.prisma;

  beforeAll(async () => {
    h = await startPayments();
  });
  afterAll(async () => {
    await h?.close();
  });

  const processed = (eventId: string) => prisma().providerEvent.findFirst({ where: { id: eventId, processedAt: { not: null } } });

  it('is refunded automatically, exactly once, counted, and never fulfilled', async () => {
    const before = h.service.stats.chargedAfterFailureRefunds;
    const payment = await pendingPayment(prisma());
    const failure = intentEvent('payment_intent.payment_failed', payment);
    await deliver(h.baseUrl, failure);
    await waitFor(() => processed(failure.id), 'the failure');

    // The same success twice (a redelivery) and once more under another event id (as a retried
    // notification would come), all at once.
    const success = intentEvent('payment_intent.succeeded', payment);
    const again = intentEvent('payment_intent.succeeded', payment);
    await Promise.all([deliver(h.baseUrl, success), deliver(h.baseUrl, success), deliver(h.baseUrl, again)]);
    await waitFor(async () => (await processed(success.id)) && (await processed(again.id)), 'both successes processed');

    const refund = await waitFor(() => prisma().refund.findFirst({ where: { paymentId: payment.id, status: 'SUCCEEDED' } }), 'the refund to complete');
    expect(refund).toMatchObject({ requestedBy: null, reason: CHARGED_AFTER_FAILURE_REASON, amount: 4900, currency: 'EUR' });
    expect(refund.providerRefundId).toMatch(/^re_sbx_/);
    expect(await prisma().refund.count({ where: { paymentId: payment.id } })).toBe(1);
    expect(await prisma().sandboxRefund.count({ where: { paymentId: payment.id } })).toBe(1);
    expect(h.service.stats.chargedAfterFailureRefunds).toBe(before + 1);

    const after = await prisma().payment.findUniqueOrThrow({ where: { id: payment.id }, include: { receipt: true } });
    expect(after).toMatchObject({ status: 'FAILED', failureCode: 'generic_decline', purchaseLock: null, receipt: null, paidAt: null });
    // Only the failure was announced (PaymentFailed): no PaymentSucceeded, so courses enrolls nobody.
    const announced = await prisma().outboxEvent.findMany({ where: { payload: { path: ['paymentId'], equals: payment.id } } });
    expect(announced.map((row) => row.type)).toEqual(['PaymentFailed']);
    // payments asked for the money back itself: audited with no actor.
    const audit = await prisma().outboxEvent.findFirst({ where: { type: 'AuditRecorded', payload: { path: ['targetId'], equals: payment.id } } });
    expect(audit?.payload).toMatchObject({ actorId: null, action: 'payments.refund.requested_by_system', details: { refundId: refund.id } });

    // Delivered again later, after the refund: still nothing more.
    const late = intentEvent('payment_intent.succeeded', payment);
    await deliver(h.baseUrl, late);
    await waitFor(() => processed(late.id), 'the late success');
    expect(await prisma().refund.count({ where: { paymentId: payment.id } })).toBe(1);
    expect(h.service.stats.chargedAfterFailureRefunds).toBe(before + 1);
    // And an operator sees the count on GET /metrics.
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toContain(`campus_payments_charged_after_failure_refunds_total{service="payments"} ${before + 1}\n`);
  });
});
