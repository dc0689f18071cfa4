/**
 * What payments' events do to enrollments (docs/payments.md): a succeeded payment enrolls
 * the buyer, a refund revokes that enrollment. The bus delivers at least once and in any order, so:
 *   - each event's effect and its ProcessedEvent row commit in one transaction (the kit's
 *     handleOnce): a redelivery changes nothing;
 *   - a refund that arrives before its purchase leaves a REVOKED enrollment naming the payment, and
 *     the late purchase sees it and does not grant access for money already returned.
 * Fulfilment ignores the course's status: the money was taken, so an archived course is still given.
 *
 * A payment event can arrive after courses erased its buyer (erasure.ts "Late payment events": a
 * payment or refund in flight at erasure time, a republished event). It is then applied to the
 * pseudonymous id the buyer's enrollments were anonymized under: the enrollment is created, restored
 * or revoked under that id, the answer names that id and that enrollment, and no live update is
 * published (nobody subscribes as the pseudonymous id, and nothing is published about the erased user).
 *
 * Every payment event is answered (docs/delivery.md): EnrollmentGranted or EnrollmentRevoked,
 * naming the event and the enrollment as it now is, written to the outbox with the effect. Payments
 * publishes the payment event again until it hears the answer, so a redelivered event (a
 * duplicate here) is answered again: the first answer may be what got lost.
 */
import { currentTraceContext, notFound } from '@campus/kit/core';
import { EVENTS, handleOnce, type EventPayloadInput } from '@campus/kit/events';
import type { CoursesDomain } from './domain.ts';
import { retryOnUniqueViolation } from './domain.ts';
import { findEnrollment, grantAccess, revokeAccess, type EnrollmentResult } from './enrollments.ts';
import { erasedAs, lockUser } from './erasure.ts';
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

/** The answer to a payment event: EnrollmentGranted for a purchase, EnrollmentRevoked for a refund. */
type Answer = typeof EVENTS.EnrollmentGranted | typeof EVENTS.EnrollmentRevoked;

/** The fact as courses applies it: `userId` is the buyer's pseudonymous id once courses erased them. */
interface Applicable {
  fact: PaymentFact;
  erased: boolean;
}

/**
 * Resolves whom `fact` applies to, holding the buyer's erasure lock (erasure.ts `lockUser`) for
 * the rest of the transaction: an erasure step of the buyer has committed before, or starts after.
 */
async function applicable(tx: Tx, fact: PaymentFact): Promise<Applicable> {
  await lockUser(tx, fact.userId);
  const pseudonymousId = await erasedAs(tx, fact.userId);
  return pseudonymousId ? { fact: { ...fact, userId: pseudonymousId }, erased: true } : { fact, erased: false };
}

/**
 * Writes the answer to `fact` to the outbox: the enrollment of its buyer as it is in `tx` now
 * (under the pseudonymous id when the buyer has been erased).
 */
export async function recordAnswer(tx: Tx, answer: Answer, fact: PaymentFact): Promise<void> {
  await writeAnswer(tx, answer, (await applicable(tx, fact)).fact);
}

/** recordAnswer for a fact already resolved by `applicable`. */
async function writeAnswer(tx: Tx, answer: Answer, fact: PaymentFact): Promise<void> {
  const enrollment = await findEnrollment(tx, fact.userId, fact.courseId);
  const payload: EventPayloadInput<Answer> = {
    acknowledges: fact.eventId,
    paymentId: fact.paymentId,
    userId: fact.userId,
    courseId: fact.courseId,
    enrollmentId: enrollment?.id ?? null,
    enrollmentStatus: enrollment?.status ?? null,
  };
  // Written while the payment event is handled: payments' handling of the answer links to that span.
  await tx.outboxEvent.create({ data: { type: answer, payload, traceContext: currentTraceContext() } });
}

async function once(
  domain: CoursesDomain,
  fact: PaymentFact,
  answer: Answer,
  effect: (tx: Tx, subject: PaymentFact) => Promise<EnrollmentResult | null>,
): Promise<FulfillmentResult> {
  let result: EnrollmentResult | null = null;
  let erased = false;
  const first = await retryOnUniqueViolation(() =>
    handleOnce(domain.prisma, CONSUMER, { id: fact.eventId }, async (tx) => {
      // An unknown course can never succeed: NOT_FOUND rolls back (the event stays unprocessed)
      // and tells the handler not to have it redelivered.
      const course = await tx.course.findUnique({ where: { id: fact.courseId }, select: { id: true } });
      if (!course) throw notFound('Course', fact.courseId);
      const subject = await applicable(tx, fact);
      erased = subject.erased;
      result = await effect(tx, subject.fact);
      await writeAnswer(tx, answer, subject.fact);
    }),
  );
  if (!first) {
    await domain.prisma.$transaction((tx) => recordAnswer(tx, answer, fact));
    domain.outboxCommitted();
    return { outcome: 'duplicate', enrollment: null };
  }
  domain.outboxCommitted();
  const done = result as EnrollmentResult | null;
  // A purchase or refund moves Course.enrollmentCount, which is public.
  if (done?.changed) await domain.catalogChanged();
  if (done?.changed && !erased) await domain.live.enrollmentChanged(done.enrollment);
  return { outcome: done?.changed ? 'changed' : 'unchanged', enrollment: done?.enrollment ?? null };
}

/** PaymentSucceeded: enroll the buyer (source PURCHASE), restoring a REVOKED enrollment rather than adding one. */
export function enrollAfterPurchase(domain: CoursesDomain, fact: PaymentFact): Promise<FulfillmentResult> {
  return once(domain, fact, EVENTS.EnrollmentGranted, async (tx, subject) => {
    const existing = await findEnrollment(tx, subject.userId, subject.courseId);
    const refundedAlready = existing?.status === 'REVOKED' && existing.revokeReason === REFUNDED && existing.paymentId === subject.paymentId;
    if (refundedAlready) return { enrollment: existing, changed: false };
    return grantAccess(tx, {
      userId: subject.userId,
      courseId: subject.courseId,
      source: 'PURCHASE',
      reason: 'purchased',
      paymentId: subject.paymentId,
    });
  });
}

/**
 * PaymentRefunded: revoke the access this payment granted. Access held for another reason (an
 * admin grant, a later purchase) is left alone. With no enrollment yet, record the refund as a
 * REVOKED enrollment so the purchase event, if it comes late, grants nothing.
 */
export function revokeAfterRefund(domain: CoursesDomain, fact: PaymentFact): Promise<FulfillmentResult> {
  return once(domain, fact, EVENTS.EnrollmentRevoked, async (tx, subject) => {
    const existing = await findEnrollment(tx, subject.userId, subject.courseId);
    if (!existing) {
      const enrollment = await tx.enrollment.create({
        data: {
          userId: subject.userId,
          courseId: subject.courseId,
          source: 'PURCHASE',
          paymentId: subject.paymentId,
          status: 'REVOKED',
          revokedAt: new Date(),
          revokeReason: REFUNDED,
          history: {
            create: { fromStatus: null, toStatus: 'REVOKED', source: 'PURCHASE', reason: 'refunded before fulfilment', paymentId: subject.paymentId },
          },
        },
      });
      return { enrollment, changed: false };
    }
    if (existing.paymentId !== subject.paymentId) return { enrollment: existing, changed: false };
    return revokeAccess(tx, existing, { reason: REFUNDED, paymentId: subject.paymentId });
  });
}
