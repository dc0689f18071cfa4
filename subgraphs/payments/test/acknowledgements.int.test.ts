/**
 * Acknowledged delivery (packages/kit/src/events/outbox-relay.ts): payments publishes
 * PaymentSucceeded again until courses answers it with EnrollmentGranted naming the event
 * (`acknowledges`). Payments consumes the answer as group "payments" (src/event-handlers.ts),
 * records it on the outbox row and notes the enrollment on the payment. Courses is played here by
 * publishing its answer on the bus as the contract defines it.
 */
import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@campus/kit/events';
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intentEvent, pendingPayment } from './fixtures.ts';
import { deliver, startPayments, type PaymentsHarness } from './harness.ts';

describe('acknowledgements of payment events', () => {
  let h: PaymentsHarness;
  const published: DomainEvent[] = [];
  const prisma = () => h.service.prisma;

  beforeAll(async () => {
    h = await startPayments({ env: { PAYMENTS_ACK_TIMEOUT_MS: '300' } });
    await h.bus.consume('courses', ['PaymentSucceeded'], async (e) => void published.push(e));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('publishes PaymentSucceeded again until EnrollmentGranted answers it, then stops', async () => {
    const payment = await pendingPayment(prisma());
    await deliver(h.baseUrl, intentEvent('payment_intent.succeeded', payment));
    const row = await waitFor(() => prisma().outboxEvent.findFirst({ where: { payload: { path: ['paymentId'], equals: payment.id } } }), 'the outbox row');
    // Unanswered: the relay's own poll publishes it again after the timeout, with the same id.
    await waitFor(() => published.filter((e) => e.id === row.id).length >= 2, 'a second publish', 5_000);

    const enrollmentId = randomUUID();
    await h.bus.publish({
      id: randomUUID(),
      type: 'EnrollmentGranted',
      occurredAt: new Date().toISOString(),
      payload: { acknowledges: row.id, paymentId: payment.id, userId: payment.userId, courseId: payment.courseId, enrollmentId, enrollmentStatus: 'ACTIVE' },
    });
    const acked = await waitFor(() => prisma().outboxEvent.findFirst({ where: { id: row.id, acknowledgedAt: { not: null } } }), 'the acknowledgement recorded');
    const fulfilled = await prisma().payment.findUniqueOrThrow({ where: { id: payment.id } });
    expect(fulfilled).toMatchObject({ enrollmentId, status: 'SUCCEEDED' });
    expect(fulfilled.fulfilledAt).toBeInstanceOf(Date);

    // Past another timeout: nothing is due again, and the row is not published any more.
    await new Promise((r) => setTimeout(r, 400));
    expect(await h.service.republishUnacknowledged()).toBe(0);
    const settled = await prisma().outboxEvent.findUniqueOrThrow({ where: { id: row.id } });
    expect(settled.publishCount).toBe(acked.publishCount);
    expect(settled.publishedAt).not.toBeNull();
  });

  it('records an answer once, however often it arrives, and ignores one for an unknown event', async () => {
    const payment = await pendingPayment(prisma());
    await deliver(h.baseUrl, intentEvent('payment_intent.succeeded', payment));
    const row = await waitFor(() => prisma().outboxEvent.findFirst({ where: { payload: { path: ['paymentId'], equals: payment.id } } }), 'the outbox row');
    const answer = (acknowledges: string) => ({
      id: randomUUID(),
      type: 'EnrollmentGranted',
      occurredAt: new Date().toISOString(),
      payload: { acknowledges, paymentId: payment.id, userId: payment.userId, courseId: payment.courseId, enrollmentId: randomUUID(), enrollmentStatus: 'ACTIVE' },
    });
    const first = answer(row.id);
    await h.bus.publish(first);
    await waitFor(() => prisma().payment.findFirst({ where: { id: payment.id, fulfilledAt: { not: null } } }), 'the first answer');
    await h.bus.publish(answer(row.id));
    await h.bus.publish(answer(randomUUID()));
    await new Promise((r) => setTimeout(r, 200));
    const after = await prisma().payment.findUniqueOrThrow({ where: { id: payment.id } });
    expect(after.enrollmentId).toBe(first.payload.enrollmentId);
  });
});
