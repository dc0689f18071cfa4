/**
 * Payments' part in privacy and accountability (docs/privacy.md, docs/payments.md "Privacy"):
 * PaymentStarted / PaymentFailed written with the status change, AuditRecorded written in the
 * refund's own transaction, the data export part, and the erasure step (personal data pseudonymized,
 * totals unchanged, idempotent, held while a payment is in flight). Users is played here by
 * publishing its requests on the bus and consuming the answers as its group would.
 */
import { randomUUID } from 'node:crypto';
import { domainEvent, pseudonymousUserId, type DomainEvent } from '@campus/kit/events';
import type { Viewer } from '@campus/kit/identity';
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout, type CheckoutDeps } from '../src/checkout.ts';
import type { Payment, PrismaClient } from '../src/generated/prisma/client.ts';
import { refundPayment, requestRefund, type RefundDeps } from '../src/refunds.ts';
import type { CourseFacts } from '../src/remote/courses-client.ts';
import { intentEvent, pendingPayment } from './fixtures.ts';
import { deliver, startPayments, type PaymentsHarness } from './harness.ts';

describe('privacy and accountability in payments', () => {
  let h: PaymentsHarness;
  const answers: DomainEvent[] = [];
  const prisma = () => h.service.prisma;

  beforeAll(async () => {
    h = await startPayments();
    await h.bus.consume('users', ['DataExportPartReady', 'AccountErasureStepCompleted'], async (e) => void answers.push(e));
  });
  afterAll(async () => {
    await h?.close();
  });

  const viewer = (role: Viewer['role'] = 'STUDENT'): Viewer => ({ id: randomUUID(), role, sessionId: randomUUID() });
  const eventsOf = (type: string, paymentId: string) =>
    prisma().outboxEvent.findMany({ where: { type, payload: { path: ['paymentId'], equals: paymentId } } });
  const auditsOf = (targetId: string) => prisma().outboxEvent.findMany({ where: { type: 'AuditRecorded', payload: { path: ['targetId'], equals: targetId } } });

  /** Courses and users as checkout would find them: a published paid course, a buyer with a name. */
  function checkoutDeps(overrides: Partial<CheckoutDeps> = {}): CheckoutDeps {
    const deps = h.service.domain.checkout;
    const course = (courseId: string): CourseFacts => ({
      id: courseId,
      title: 'Privacy by Design',
      status: 'PUBLISHED',
      isFree: false,
      price: { amount: 2900, currency: 'EUR' },
      instructorId: randomUUID(),
      viewerEnrollment: null,
    });
    return {
      ...deps,
      courses: { courseFacts: async (courseId) => course(courseId) },
      users: { buyer: async () => ({ name: 'Pat Buyer', email: 'pat@campus.test' }) },
      ...overrides,
    };
  }

  /** Refunds as the payer asks for them: courses says how far they got (nowhere yet). */
  const refunds = (): RefundDeps => ({
    ...h.service.domain.refunds,
    courses: {
      courseFacts: async (courseId) => ({
        id: courseId,
        title: 'Privacy by Design',
        status: 'PUBLISHED',
        isFree: false,
        price: { amount: 4900, currency: 'EUR' },
        instructorId: randomUUID(),
        viewerEnrollment: { status: 'ACTIVE', progressPercent: 0 },
      }),
    },
  });

  /** A payment that succeeded through the webhook (receipt, PaymentSucceeded), answered by courses. */
  async function paidPayment(overrides: Partial<Payment> = {}): Promise<Payment> {
    const payment = await pendingPayment(prisma(), overrides);
    await deliver(h.baseUrl, intentEvent('payment_intent.succeeded', payment));
    await waitFor(() => prisma().receipt.findUnique({ where: { paymentId: payment.id } }), 'the receipt');
    await prisma().outboxEvent.updateMany({ where: { type: 'PaymentSucceeded', payload: { path: ['paymentId'], equals: payment.id } }, data: { acknowledgedAt: new Date() } });
    return prisma().payment.findUniqueOrThrow({ where: { id: payment.id } });
  }

  /** A prisma whose transactions run their work, then fail: what commits only with the transaction disappears. */
  function failingTransactions(real: PrismaClient): PrismaClient {
    return new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== '$transaction') return Reflect.get(target, prop, receiver);
        return (fn: (tx: unknown) => Promise<unknown>) =>
          target.$transaction(async (tx) => {
            await fn(tx);
            throw new Error('the transaction fails after its work');
          });
      },
    });
  }

  describe('payments in flight', () => {
    it('writes PaymentStarted with the PENDING payment, then PaymentSucceeded', async () => {
      const buyer = viewer();
      const payment = await checkout(checkoutDeps(), buyer, undefined, { courseId: randomUUID(), paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID() });
      const [started] = await eventsOf('PaymentStarted', payment.id);
      expect(started?.payload).toMatchObject({ paymentId: payment.id, userId: buyer.id, courseId: payment.courseId, amount: 2900, currency: 'EUR' });
      await waitFor(async () => (await eventsOf('PaymentSucceeded', payment.id)).length === 1, 'PaymentSucceeded');
      expect(await eventsOf('PaymentFailed', payment.id)).toHaveLength(0);
    });

    it('writes PaymentFailed when the provider declines, and when it cannot be reached', async () => {
      const declined = await checkout(checkoutDeps(), viewer(), undefined, { courseId: randomUUID(), paymentMethod: 'pm_card_chargeDeclined', idempotencyKey: randomUUID() });
      await waitFor(async () => (await eventsOf('PaymentFailed', declined.id)).length === 1, 'PaymentFailed after the decline');
      expect(await prisma().payment.findUniqueOrThrow({ where: { id: declined.id } })).toMatchObject({ status: 'FAILED' });

      const real = h.service.domain.checkout.provider;
      const down = { ...real, name: real.name, checkPaymentMethod: (m: string) => real.checkPaymentMethod(m), createPayment: async () => Promise.reject(new Error('provider down')) };
      const failed = await checkout(checkoutDeps({ provider: down }), viewer(), undefined, { courseId: randomUUID(), paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID() });
      expect(failed.status).toBe('FAILED');
      expect(await eventsOf('PaymentStarted', failed.id)).toHaveLength(1);
      expect((await eventsOf('PaymentFailed', failed.id))[0]?.payload).toMatchObject({ paymentId: failed.id, userId: failed.userId });
    });
  });

  describe('audit entries', () => {
    it('records who asked for a refund, payer or admin, in the refund transaction', async () => {
      const payer = viewer();
      const own = await paidPayment({ userId: payer.id });
      await requestRefund(refunds(), payer, undefined, { paymentId: own.id, reason: 'changed my mind' });
      const admin = viewer('ADMIN');
      const other = await paidPayment();
      await refundPayment(refunds(), admin, { paymentId: other.id, reason: 'goodwill' });

      const [byPayer] = await auditsOf(own.id);
      expect(byPayer?.payload).toMatchObject({
        service: 'payments',
        actorId: payer.id,
        action: 'payments.refund.requested',
        targetId: own.id,
        details: { payerId: payer.id, amount: 4900, currency: 'EUR', role: 'STUDENT' },
      });
      // The requester's words stay on the refund, out of the log.
      expect(JSON.stringify(byPayer?.payload)).not.toContain('changed my mind');
      const [byAdmin] = await auditsOf(other.id);
      expect(byAdmin?.payload).toMatchObject({ actorId: admin.id, action: 'payments.refund.requested_by_admin', details: { payerId: other.userId, role: 'ADMIN' } });
    });

    it('leaves no audit entry when the refund transaction rolls back', async () => {
      const payment = await paidPayment();
      const deps: RefundDeps = { ...h.service.domain.refunds, prisma: failingTransactions(prisma()) };
      await expect(refundPayment(deps, viewer('ADMIN'), { paymentId: payment.id })).rejects.toThrow(/fails after its work/);
      expect(await prisma().refund.count({ where: { paymentId: payment.id } })).toBe(0);
      expect(await auditsOf(payment.id)).toHaveLength(0);
    });
  });

  describe('data export', () => {
    it('answers with the payments, refunds and receipts of the user, again on a redelivery', async () => {
      const userId = randomUUID();
      const paid = await paidPayment({ userId });
      const refunded = await paidPayment({ userId });
      await requestRefund(refunds(), { id: userId, role: 'STUDENT', sessionId: randomUUID() }, undefined, { paymentId: refunded.id, reason: 'too hard' });
      await paidPayment(); // someone else's

      const request = domainEvent('DataExportRequested', { exportId: randomUUID(), userId });
      await h.bus.publish(request);
      const part = await waitFor(() => answers.find((a) => a.type === 'DataExportPartReady' && (a.payload as { acknowledges: string }).acknowledges === request.id), 'the export part');
      const payload = part.payload as { service: string; exportId: string; part: Record<string, any> };
      expect(payload).toMatchObject({ service: 'payments', exportId: request.payload.exportId, userId });
      expect(payload.part.payments.map((p: { id: string }) => p.id).sort()).toEqual([paid.id, refunded.id].sort());
      expect(payload.part.payments[0]).toMatchObject({ buyerName: 'Sam Student', buyerEmail: 'student@campus.test', amount: 4900, currency: 'EUR' });
      expect(payload.part.refunds).toEqual([expect.objectContaining({ paymentId: refunded.id, reason: 'too hard', requestedByYou: true, amount: 4900 })]);
      expect(payload.part.receipts).toHaveLength(2);
      expect(payload.part.counts).toEqual({ payments: 2, refunds: 1, receipts: 2 });
      expect(payload.part.truncated).toEqual([]);

      await h.bus.publish(request);
      await waitFor(() => answers.filter((a) => (a.payload as { acknowledges: string }).acknowledges === request.id).length === 2, 'the second answer');
    });
  });

  describe('erasure', () => {
    const erasureAnswers = (requestId: string) =>
      answers.filter((a) => a.type === 'AccountErasureStepCompleted' && (a.payload as { acknowledges: string }).acknowledges === requestId);

    it('keeps the financial records, pseudonymized, with every total unchanged; a redelivery changes nothing', async () => {
      const userId = randomUUID();
      const courseId = randomUUID();
      const paid = await paidPayment({ userId, courseId });
      const refunded = await paidPayment({ userId });
      await requestRefund(refunds(), { id: userId, role: 'STUDENT', sessionId: randomUUID() }, undefined, { paymentId: refunded.id, reason: 'my reasons, with my name' });
      // The sandbox refunds at once and says so by webhook.
      await waitFor(() => prisma().payment.findFirst({ where: { id: refunded.id, status: 'REFUNDED' } }), 'the refund completed');
      await prisma().outboxEvent.updateMany({ where: { type: 'PaymentRefunded' }, data: { acknowledgedAt: new Date() } });
      await prisma().idempotencyRecord.create({ data: { userId, operation: 'checkout', key: randomUUID(), requestHash: 'h'.repeat(64), paymentId: paid.id } });

      const totals = async () => ({
        payments: await prisma().payment.aggregate({ _sum: { amount: true }, _count: true }),
        refunds: await prisma().refund.aggregate({ _sum: { amount: true }, _count: true }),
        receipts: await prisma().receipt.aggregate({ _sum: { total: true }, _count: true }),
        sales: await prisma().payment.groupBy({ by: ['status'], where: { courseId }, _count: true, _sum: { amount: true }, orderBy: { status: 'asc' } }),
      });
      const before = await totals();

      const pseudonym = `deleted-user-${randomUUID().slice(0, 8)}`;
      const request = domainEvent('AccountErasureRequested', { deletionId: randomUUID(), userId, pseudonym });
      await h.bus.publish(request);
      const [answer] = await waitFor(() => erasureAnswers(request.id).length === 1 && erasureAnswers(request.id), 'the erasure answer');
      const summary = (answer!.payload as { summary: Record<string, number> }).summary;
      expect(answer!.payload).toMatchObject({ service: 'payments', userId, deletionId: request.payload.deletionId });
      expect(summary).toMatchObject({ paymentsPseudonymized: 2, receiptsPseudonymized: 2, refundsPseudonymized: 1, refundReasonsErased: 1, idempotencyRecordsDeleted: 1 });
      expect(summary.providerEventsDeleted).toBeGreaterThanOrEqual(3);

      const pseudoId = pseudonymousUserId(pseudonym);
      expect(await totals()).toEqual(before);
      expect(await prisma().payment.count({ where: { userId } })).toBe(0);
      const kept = await prisma().payment.findMany({ where: { userId: pseudoId }, include: { receipt: true, refunds: true } });
      expect(kept).toHaveLength(2);
      for (const p of kept) {
        expect(p).toMatchObject({ buyerName: pseudonym, buyerEmail: null, paymentMethodLast4: null });
        expect(p.receipt).toMatchObject({ buyerName: pseudonym, buyerEmail: null, paymentMethodLast4: null });
      }
      expect(kept.find((p) => p.id === paid.id)!.purchaseLock).toBe(`${pseudoId}:${courseId}`);
      expect(kept.find((p) => p.id === refunded.id)!.refunds[0]).toMatchObject({ requestedBy: pseudoId, reason: null, status: 'SUCCEEDED' });
      expect(await prisma().idempotencyRecord.count({ where: { userId } })).toBe(0);
      expect(await prisma().providerEvent.count({ where: { payload: { path: ['data', 'object', 'metadata', 'paymentId'], equals: paid.id } } })).toBe(0);
      // Nothing left in the outbox names the account but the answers to the erasure itself.
      const naming = (await prisma().outboxEvent.findMany()).filter((row) => JSON.stringify(row.payload).includes(userId));
      expect(naming.map((row) => row.type)).toEqual(['AccountErasureStepCompleted']);

      // Delivered again (same event), and asked again (a new event for the same deletion): same summary, nothing changed.
      await h.bus.publish(request);
      const again = domainEvent('AccountErasureRequested', request.payload);
      await h.bus.publish(again);
      await waitFor(() => erasureAnswers(request.id).length === 2 && erasureAnswers(again.id).length === 1, 'the answers to the redeliveries');
      for (const a of [...erasureAnswers(request.id), ...erasureAnswers(again.id)]) expect((a.payload as { summary: unknown }).summary).toEqual(summary);
      expect(await totals()).toEqual(before);
      expect(await prisma().erasureStep.count({ where: { deletionId: request.payload.deletionId } })).toBe(1);
    });

    it('holds its answer while a payment of the user is PENDING, and answers once it settled', async () => {
      const userId = randomUUID();
      const pending = await pendingPayment(prisma(), { userId });
      const request = domainEvent('AccountErasureRequested', { deletionId: randomUUID(), userId, pseudonym: `deleted-user-${randomUUID().slice(0, 8)}` });
      await h.bus.publish(request);
      // Delivered and refused (retried with backoff): nothing changes, nothing answers.
      await new Promise((r) => setTimeout(r, 400));
      expect(erasureAnswers(request.id)).toHaveLength(0);
      expect(await prisma().payment.findUniqueOrThrow({ where: { id: pending.id } })).toMatchObject({ userId, buyerName: 'Sam Student' });
      expect(await prisma().erasureStep.count({ where: { deletionId: request.payload.deletionId } })).toBe(0);

      await deliver(h.baseUrl, intentEvent('payment_intent.payment_failed', pending));
      await waitFor(() => erasureAnswers(request.id).length === 1, 'the answer after the payment failed', 15_000);
      expect(await prisma().payment.findUniqueOrThrow({ where: { id: pending.id } })).toMatchObject({ userId: pseudonymousUserId(request.payload.pseudonym), status: 'FAILED' });
    });
  });
});
