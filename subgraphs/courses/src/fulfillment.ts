/**
 * What payments' events do to enrollments (docs/payments.md): a succeeded payment enrolls
 * the buyer, a refund revokes that enrollment. The bus delivers at least once and in any order, so:
 *   - each event's effect and its ProcessedEvent row commit in one transaction (the kit's
 *     handleOnce): a redelivery changes nothing;
 *   - a refund that arrives before its purchase leaves a REVOKED enrollment naming the payment, and
 *     the late purchase sees it and does not grant access for money already returned.
 * Fulfilment ignores the course's status: the money was taken, so an archived course is still given.
 */
import { notFound } from '@campus/kit/core';
import { handleOnce } from '@campus/kit/events';
import type { CoursesDomain } from './domain.ts';
import { retryOnUniqueViolation } from './domain.ts';
import { findEnrollment, grantAccess, revokeAccess, type EnrollmentResult } from './enrollments.ts';
import type { Enrollment, Prisma } from './generated/prisma/client.ts';

/** The consumer name in ProcessedEvent, and the bus consumer group. */
export const CONSUMER = 'courses';

export const REFUNDED = 'refunded';

export interface PaymentFact {
  /** The event's id; the same id twice is one effect. */
  eventId: string;
  userId: string;
  courseId: string;
  paymentId: string;
}

export type FulfillmentOutcome =
  /** The event had been processed before: nothing done. */
  | 'duplicate'
  /** Access granted, restored or revoked. */
  | 'changed'
  /** Processed, but the enrollment already was as the event wants it (or must not change). */
  | 'unchanged';

export interface FulfillmentResult {
  outcome: FulfillmentOutcome;
  enrollment: Enrollment | null;
}

type Tx = Prisma.TransactionClient;

async function once(
  domain: CoursesDomain,
  fact: PaymentFact,
  effect: (tx: Tx) => Promise<EnrollmentResult | null>,
): Promise<FulfillmentResult> {
  let result: EnrollmentResult | null = null;
  const first = await retryOnUniqueViolation(() =>
    handleOnce(domain.prisma, CONSUMER, { id: fact.eventId }, async (tx) => {
      // An unknown course can never succeed: NOT_FOUND rolls back (the event stays unprocessed)
      // and tells the handler not to have it redelivered.
      const course = await tx.course.findUnique({ where: { id: fact.courseId }, select: { id: true } });
      if (!course) throw notFound('Course', fact.courseId);
      result = await effect(tx);
    }),
  );
  if (!first) return { outcome: 'duplicate', enrollment: null };
  const done = result as EnrollmentResult | null;
  if (done?.changed) await domain.live.enrollmentChanged(done.enrollment);
  return { outcome: done?.changed ? 'changed' : 'unchanged', enrollment: done?.enrollment ?? null };
}

/** PaymentSucceeded: enroll the buyer (source PURCHASE), restoring a REVOKED enrollment rather than adding one. */
export function enrollAfterPurchase(domain: CoursesDomain, fact: PaymentFact): Promise<FulfillmentResult> {
  return once(domain, fact, async (tx) => {
    const existing = await findEnrollment(tx, fact.userId, fact.courseId);
    const refundedAlready = existing?.status === 'REVOKED' && existing.revokeReason === REFUNDED && existing.paymentId === fact.paymentId;
    if (refundedAlready) return { enrollment: existing, changed: false };
    return grantAccess(tx, {
      userId: fact.userId,
      courseId: fact.courseId,
      source: 'PURCHASE',
      reason: 'purchased',
      paymentId: fact.paymentId,
    });
  });
}

/**
 * PaymentRefunded: revoke the access this payment granted. Access held for another reason (an
 * admin grant, a later purchase) is left alone. With no enrollment yet, record the refund as a
 * REVOKED enrollment so the purchase event, if it comes late, grants nothing.
 */
export function revokeAfterRefund(domain: CoursesDomain, fact: PaymentFact): Promise<FulfillmentResult> {
  return once(domain, fact, async (tx) => {
    const existing = await findEnrollment(tx, fact.userId, fact.courseId);
    if (!existing) {
      const enrollment = await tx.enrollment.create({
        data: {
          userId: fact.userId,
          courseId: fact.courseId,
          source: 'PURCHASE',
          paymentId: fact.paymentId,
          status: 'REVOKED',
          revokedAt: new Date(),
          revokeReason: REFUNDED,
          history: {
            create: { fromStatus: null, toStatus: 'REVOKED', source: 'PURCHASE', reason: 'refunded before fulfilment', paymentId: fact.paymentId },
          },
        },
      });
      return { enrollment, changed: false };
    }
    if (existing.paymentId !== fact.paymentId) return { enrollment: existing, changed: false };
    return revokeAccess(tx, existing, { reason: REFUNDED, paymentId: fact.paymentId });
  });
}
