/**
 * Checkout: buying one course.
 *
 *   1. Validate the input, then claim its idempotency key (idempotency.ts) before anything else:
 *      a key seen before answers with the first call's payment, whatever has changed since (the
 *      buyer may be enrolled by now); a duplicate still in flight waits for the first's result.
 *   2. Ask the courses service for the course as it is now (price, status, instructor, whether the
 *      buyer is enrolled) and the users service for the buyer's name and email; refuse what
 *      cannot be bought with a clear code. The amount never comes from the client. A refusal
 *      removes the claim, so a retry of the key is judged afresh.
 *   3. One transaction: the PENDING payment with its snapshot, the key bound to it, and
 *      PaymentStarted in the outbox (users learns the buyer has a payment in flight). The unique
 *      purchase lock ("<user>:<course>") refuses a second open or paid purchase of the same
 *      course, even under another key.
 *   4. Ask the provider to charge. The outcome arrives later through the webhook (or
 *      reconciliation.ts asks for it).
 */
import { badUserInput, conflict, forbidden, lineText, notFound, parseInput, type Logger } from '@campus/kit/core';
import { EVENTS } from '@campus/kit/events';
import type { Viewer } from '@campus/kit/identity';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { Prisma, type Payment, type PrismaClient } from './generated/prisma/client.ts';
import { bindKey, claimKey, LostClaimError, releaseKey, requestHash, type KeyPolicy, type KeyScope } from './idempotency.ts';
import type { LiveUpdates } from './live-updates.ts';
import { recordPaymentEvent } from './outbox.ts';
import { purchaseLockFor } from './payment-state.ts';
import type { CreatePaymentRequest, PaymentProvider } from './provider/provider.ts';
import type { CourseFacts, CoursesClient } from './remote/courses-client.ts';
import type { UsersClient } from './remote/users-client.ts';

export interface CheckoutDeps {
  prisma: PrismaClient;
  provider: PaymentProvider;
  courses: CoursesClient;
  users: UsersClient;
  live: LiveUpdates;
  logger: Logger;
  /** How long keys are kept and duplicates wait (PAYMENTS_IDEMPOTENCY_RETENTION_HOURS). */
  keys: KeyPolicy;
  /** Called after a transaction that wrote outbox rows commits: wakes the relay. */
  outboxCommitted(): void;
}

const checkoutInput = z.object({
  courseId: z.uuid('must be a course id (a UUID)'),
  // One line each, no control characters (packages/kit/src/core/validation.ts): both are stored and logged.
  paymentMethod: lineText(100).min(1, 'must not be empty'),
  idempotencyKey: lineText(255, { trim: false }).min(1, 'must not be empty'),
});

export async function checkout(deps: CheckoutDeps, viewer: Viewer, authorization: string | undefined, input: unknown): Promise<Payment> {
  const data = parseInput(checkoutInput, input);
  const hash = requestHash({ courseId: data.courseId, paymentMethod: data.paymentMethod });
  const scope: KeyScope = { userId: viewer.id, operation: 'checkout', key: data.idempotencyKey };
  for (;;) {
    const claim = await claimKey(deps.prisma, scope, hash, deps.keys);
    if (claim.kind === 'replay') return resume(deps, await loadPayment(deps.prisma, claim.paymentId), data.paymentMethod);
    let payment: Payment;
    try {
      payment = await createPending(deps, viewer, authorization, data, scope, claim.claimedAt);
    } catch (e) {
      // Another request took the key over (ours looked abandoned): its payment is the answer.
      if (e instanceof LostClaimError) continue;
      await releaseKey(deps.prisma, scope, claim.claimedAt).catch((err) =>
        deps.logger.error({ err }, 'could not release an idempotency key; it is released when it turns stale'),
      );
      throw e;
    }
    deps.outboxCommitted();
    await deps.live.paymentChanged(payment);
    return charge(deps, payment, data.paymentMethod);
  }
}

/** Steps 2 and 3, for the request holding the key. */
async function createPending(
  deps: CheckoutDeps,
  viewer: Viewer,
  authorization: string | undefined,
  data: z.output<typeof checkoutInput>,
  scope: KeyScope,
  claimedAt: Date,
): Promise<Payment> {
  const methodProblem = deps.provider.checkPaymentMethod(data.paymentMethod);
  if (methodProblem) throw badUserInput('input.paymentMethod', `input.paymentMethod: ${methodProblem}`);

  const [course, buyer] = await Promise.all([
    deps.courses.courseFacts(data.courseId, authorization),
    deps.users.buyer(viewer.id, authorization),
  ]);
  if (!buyer) throw notFound('User', viewer.id);
  const price = assertPurchasable(course, data.courseId, viewer);

  try {
    return await deps.prisma.$transaction(async (tx) => {
      const created = await tx.payment.create({
        data: {
          userId: viewer.id,
          courseId: course!.id,
          courseTitle: course!.title,
          amount: price.amount,
          currency: price.currency,
          provider: deps.provider.name,
          buyerName: buyer.name,
          buyerEmail: buyer.email,
          purchaseLock: purchaseLockFor('PENDING', viewer.id, course!.id),
        },
      });
      await bindKey(tx, scope, claimedAt, created.id);
      await recordPaymentEvent(tx, EVENTS.PaymentStarted, created);
      return created;
    });
  } catch (e) {
    if (!(e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')) throw e;
    // The purchase lock: another checkout of this course (under another key) is open or paid.
    throw alreadyBuying(await openPurchase(deps.prisma, viewer.id, data.courseId));
  }
}

/** The price to charge, or the reason this course cannot be bought by this viewer. */
function assertPurchasable(course: CourseFacts | null, courseId: string, viewer: Viewer): { amount: number; currency: string } {
  if (!course) throw notFound('Course', courseId);
  if (course.status !== 'PUBLISHED') {
    throw badUserInput('input.courseId', `input.courseId: the course is ${course.status}, not on sale. Only published courses can be bought.`);
  }
  if (course.isFree || !course.price) {
    throw badUserInput('input.courseId', 'input.courseId: the course is free; enroll with enrollInFreeCourse instead.');
  }
  if (course.instructorId === viewer.id) throw forbidden('You teach this course; instructors cannot buy their own courses.');
  const enrollment = course.viewerEnrollment;
  if (enrollment && enrollment.status !== 'REVOKED') {
    throw conflict('You are already enrolled in this course; there is nothing to buy.', { field: 'input.courseId' });
  }
  return { amount: course.price.amount, currency: course.price.currency.toUpperCase() };
}

async function openPurchase(prisma: PrismaClient, userId: string, courseId: string): Promise<Payment | null> {
  return prisma.payment.findUnique({ where: { purchaseLock: purchaseLockFor('PENDING', userId, courseId)! } });
}

const alreadyBuying = (open: Payment | null) =>
  conflict(
    open?.status === 'SUCCEEDED'
      ? 'You already bought this course.'
      : 'A checkout for this course is already in progress; wait for its outcome (or retry with its idempotency key).',
    { field: 'input.courseId', ...(open ? { paymentId: open.id } : {}) },
  );

/**
 * A retry of a checkout whose process stopped between committing the payment and reaching the
 * provider finds it PENDING without a provider reference: hand it over again. The provider's
 * idempotency key is the payment id, so a request that did reach it is not charged twice.
 */
const STALLED_AFTER_MS = 30_000;

async function resume(deps: CheckoutDeps, payment: Payment, paymentMethod: string): Promise<Payment> {
  const stalled = payment.status === 'PENDING' && !payment.providerPaymentId && Date.now() - payment.createdAt.getTime() > STALLED_AFTER_MS;
  return stalled ? charge(deps, payment, paymentMethod) : payment;
}

/**
 * What the provider is asked to charge for `payment`. Its idempotency key is the payment id, so
 * asking again (a resumed checkout) never charges twice.
 */
export function paymentRequest(payment: Payment, paymentMethod: string): CreatePaymentRequest {
  return {
    paymentId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
    paymentMethod,
    description: payment.courseTitle,
    idempotencyKey: payment.id,
  };
}

/** Hands the payment to the provider; a provider that cannot be reached fails it, charging nothing. */
async function charge(deps: CheckoutDeps, payment: Payment, paymentMethod: string): Promise<Payment> {
  try {
    const created = await deps.provider.createPayment(paymentRequest(payment, paymentMethod));
    // Only fills in what the webhook may not have set yet; the status is the webhook's to change.
    await deps.prisma.payment.updateMany({
      where: { id: payment.id, providerPaymentId: null },
      data: { providerPaymentId: created.providerPaymentId, paymentMethodBrand: created.method?.brand, paymentMethodLast4: created.method?.last4 },
    });
  } catch (err) {
    deps.logger.error({ err, paymentId: payment.id }, 'the payment provider refused the request');
    // FAILED and PaymentFailed commit together: users stops counting the payment as in flight.
    const failed = await deps.prisma.$transaction(async (tx) => {
      const [row] = await tx.payment.updateManyAndReturn({
        where: { id: payment.id, status: 'PENDING' },
        data: {
          status: 'FAILED',
          failedAt: new Date(),
          failureCode: 'provider_unavailable',
          failureReason: 'The payment provider could not take the payment; nothing was charged. Try again with a new idempotency key.',
          purchaseLock: null,
          version: { increment: 1 },
        },
      });
      if (row) await recordPaymentEvent(tx, EVENTS.PaymentFailed, row);
      return row;
    });
    if (failed) {
      deps.outboxCommitted();
      await deps.live.paymentChanged(failed);
    }
  }
  return loadPayment(deps.prisma, payment.id);
}

async function loadPayment(prisma: PrismaClient, id: string): Promise<Payment> {
  const payment = await prisma.payment.findUnique({ where: { id } });
  if (!payment) throw new GraphQLError(`Payment ${id} vanished.`, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  return payment;
}
