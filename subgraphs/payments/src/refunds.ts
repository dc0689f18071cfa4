/**
 * Refunds: `requestRefund` by the payer within the policy (a window after paying and a
 * progress limit, both configurable), `refundPayment` by admins whatever the policy. Both create
 * a PENDING refund and ask the provider; the provider's webhook completes it, which turns the
 * payment REFUNDED and publishes PaymentRefunded (courses then revokes the enrollment).
 *
 * Asking for a refund is audited: the transaction that creates the refund also writes AuditRecorded
 * (`payments.refund.requested` by the payer, `payments.refund.requested_by_admin` by an admin) to
 * the outbox, so the refund and its audit entry commit or roll back together.
 *
 * At most one live refund per payment: the refund's unique `openLock` (= the payment id while
 * PENDING or SUCCEEDED) makes concurrent requests collide; the loser, like any repeat, gets the
 * payment back as it is. A refund the provider refused (FAILED) frees the lock for another try.
 */
import { conflict, forbidden, longText, notFound, parseInput, type Logger } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { z } from 'zod';
import { Prisma, type Payment, type PrismaClient, type Refund } from './generated/prisma/client.ts';
import type { LiveUpdates } from './live-updates.ts';
import { recordAudit } from './outbox.ts';
import type { PaymentProvider } from './provider/provider.ts';
import type { CoursesClient } from './remote/courses-client.ts';

export interface RefundPolicy {
  windowDays: number;
  maxProgressPercent: number;
}

export interface RefundDeps {
  prisma: PrismaClient;
  provider: PaymentProvider;
  courses: CoursesClient;
  live: LiveUpdates;
  logger: Logger;
  policy: RefundPolicy;
  /** Called after a transaction that wrote outbox rows commits: wakes the relay. */
  outboxCommitted(): void;
}

const refundInput = z.object({
  paymentId: z.uuid('must be a payment id (a UUID)'),
  reason: longText(500).nullish(),
});

const DAY_MS = 86_400_000;

/** The payer asks for their money back. */
export async function requestRefund(deps: RefundDeps, viewer: Viewer, authorization: string | undefined, input: unknown): Promise<Payment> {
  const data = parseInput(refundInput, input);
  const payment = await deps.prisma.payment.findUnique({ where: { id: data.paymentId } });
  // Someone else's payment is, for this viewer, not there (no hint that the id exists).
  if (!payment || payment.userId !== viewer.id) throw notFound('Payment', data.paymentId);
  const live = await liveRefund(deps.prisma, payment.id);
  if (live) return payment;
  assertRefundable(payment);

  const paidAt = payment.paidAt ?? payment.createdAt;
  const deadline = new Date(paidAt.getTime() + deps.policy.windowDays * DAY_MS);
  if (Date.now() > deadline.getTime()) {
    throw forbidden(`The refund window of ${deps.policy.windowDays} days ended on ${deadline.toISOString()}; contact support.`);
  }
  const course = await deps.courses.courseFacts(payment.courseId, authorization);
  const progress = course?.viewerEnrollment?.progressPercent ?? 0;
  if (progress > deps.policy.maxProgressPercent) {
    throw forbidden(
      `You have completed ${progress}% of the course; refunds are possible up to ${deps.policy.maxProgressPercent}%. Contact support.`,
    );
  }
  return startRefund(deps, payment, viewer, data.reason ?? null, 'payments.refund.requested');
}

/** An admin refunds any successful payment. */
export async function refundPayment(deps: RefundDeps, viewer: Viewer, input: unknown): Promise<Payment> {
  const data = parseInput(refundInput, input);
  const payment = await deps.prisma.payment.findUnique({ where: { id: data.paymentId } });
  if (!payment) throw notFound('Payment', data.paymentId);
  if (await liveRefund(deps.prisma, payment.id)) return payment;
  assertRefundable(payment);
  return startRefund(deps, payment, viewer, data.reason ?? null, 'payments.refund.requested_by_admin');
}

const liveRefund = (prisma: PrismaClient, paymentId: string) => prisma.refund.findUnique({ where: { openLock: paymentId } });

function assertRefundable(payment: Payment): void {
  if (payment.status !== 'SUCCEEDED') {
    throw conflict(`Only a SUCCEEDED payment can be refunded; this one is ${payment.status}.`, { field: 'input.paymentId' });
  }
}

type RefundAction = 'payments.refund.requested' | 'payments.refund.requested_by_admin';

async function startRefund(deps: RefundDeps, payment: Payment, requester: Viewer, reason: string | null, action: RefundAction): Promise<Payment> {
  const requestedBy = requester.id;
  let refund: Refund;
  try {
    refund = await deps.prisma.$transaction(async (tx) => {
      // Re-checked inside the transaction: the payment may have moved since it was read.
      const current = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
      assertRefundable(current);
      const created = await tx.refund.create({
        data: { paymentId: payment.id, amount: payment.amount, currency: payment.currency, reason, requestedBy, openLock: payment.id },
      });
      await tx.payment.update({ where: { id: payment.id }, data: { version: { increment: 1 } } });
      // The reason is the requester's free text: it stays on the refund, out of the audit log.
      await recordAudit(tx, requester, action, payment.id, {
        refundId: created.id,
        payerId: payment.userId,
        amount: created.amount,
        currency: created.currency,
        role: requester.role,
      });
      return created;
    });
    deps.outboxCommitted();
  } catch (e) {
    // A concurrent request created the live refund first: this one is a repeat.
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return deps.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } });
    throw e;
  }
  await deps.live.paymentChanged(await deps.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } }));

  try {
    const { providerRefundId } = await deps.provider.refund({
      refundId: refund.id,
      paymentId: payment.id,
      providerPaymentId: payment.providerPaymentId ?? '',
      amount: refund.amount,
      currency: refund.currency,
      idempotencyKey: refund.id,
    });
    await deps.prisma.refund.updateMany({ where: { id: refund.id, providerRefundId: null }, data: { providerRefundId } });
  } catch (err) {
    deps.logger.error({ err, refundId: refund.id }, 'the payment provider refused the refund');
    await deps.prisma.$transaction([
      deps.prisma.refund.updateMany({
        where: { id: refund.id, status: 'PENDING' },
        data: { status: 'FAILED', failureReason: 'The payment provider could not take the refund; try again later.', openLock: null, completedAt: new Date() },
      }),
      deps.prisma.payment.update({ where: { id: payment.id }, data: { version: { increment: 1 } } }),
    ]);
    await deps.live.paymentChanged(await deps.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } }));
  }
  return deps.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } });
}
