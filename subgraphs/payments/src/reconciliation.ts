/**
 * Reconciliation (docs/payments.md): webhooks can be lost, so payments does not wait for them
 * forever. Every poll it asks the provider about payments PENDING for longer than
 * PAYMENTS_RECONCILE_AFTER_MS (`retrievePayment`, Stripe's `GET /v1/payment_intents/:id`) and
 * settles them from the answer:
 *   succeeded  the same transition as the succeeded webhook (apply-event.ts): receipt,
 *              PaymentSucceeded in the outbox, live update
 *   failed     FAILED with the provider's reason (apply-event.ts as well)
 *   unknown    the request never reached the provider: FAILED "provider_unreachable", nothing charged
 *   processing left alone; asked again on the next poll
 * Settling FAILED releases the purchase lock, so the buyer can buy again. Every change is a
 * conditional update from PENDING, so several instances reconciling at once, or a webhook
 * arriving meanwhile, settle a payment once. It also asks the provider again for refunds of
 * payments charged after they had failed that it never took (charged-after-failure.ts).
 */
import type { Logger } from '@campus/kit/core';
import { EVENTS } from '@campus/kit/events';
import { retryPendingRefunds } from './charged-after-failure.ts';
import { recordPaymentEvent } from './outbox.ts';
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';
import { createPoller } from '@campus/kit/core';
import type { PaymentProvider, ProviderPaymentStatus } from './provider/provider.ts';
import type { PaymentsStats } from './stats.ts';
import { applyIntentFailed, applyIntentSucceeded, hasEffects, type Applied } from './webhooks/apply-event.ts';
import type { PaymentIntentObject } from './webhooks/provider-event.ts';

export interface ReconciliationOptions {
  prisma: PrismaClient;
  provider: PaymentProvider;
  logger: Logger;
  stats: PaymentsStats;
  /** A payment PENDING for longer than this is asked about. */
  afterMs: number;
  pollIntervalMs: number;
  /** After a transaction that changed something committed: live updates, the relay, refunds. */
  onApplied: (applied: Applied) => Promise<void>;
}

export interface Reconciliation {
  start(): void;
  /** One pass now (tests call it rather than wait for the poll). */
  run(): Promise<void>;
  stop(): Promise<void>;
}

const PAGE = 50;

export const PROVIDER_UNREACHABLE = {
  code: 'provider_unreachable',
  reason: 'The payment never reached the payment provider; nothing was charged. Try again.',
} as const;

type Overdue = { id: string; createdAt: Date; providerPaymentId: string | null };

export function createReconciliation(options: ReconciliationOptions): Reconciliation {
  const { prisma, provider, logger, stats } = options;

  async function settle(payment: Overdue): Promise<void> {
    const answer = await provider.retrievePayment({ paymentId: payment.id, providerPaymentId: payment.providerPaymentId });
    if (answer.status === 'processing') return;
    const at = new Date();
    const applied = await prisma.$transaction((tx) =>
      answer.status === 'unknown' ? failUnreachable(tx, payment.id, at)
      : answer.status === 'succeeded' ? applyIntentSucceeded(tx, intentOf(payment.id, answer), at)
      : applyIntentFailed(tx, intentOf(payment.id, answer), at),
    );
    const settled = applied.changed.some((p) => p.id === payment.id && p.status !== 'PENDING');
    if (settled) {
      stats.reconciled[answer.status] += 1;
      logger.info(
        { paymentId: payment.id, outcome: answer.status === 'unknown' ? PROVIDER_UNREACHABLE.code : answer.status },
        'reconciliation settled a payment',
      );
    } else if (applied.note) {
      logger.warn({ paymentId: payment.id, providerStatus: answer.status, note: applied.note }, 'reconciliation left a payment as it is');
    }
    if (hasEffects(applied)) await options.onApplied(applied);
  }

  async function run(): Promise<void> {
    const cutoff = new Date(Date.now() - options.afterMs);
    // Paged by (createdAt, id), so payments still processing at the provider do not hide the rest.
    let after: Overdue | undefined;
    for (;;) {
      const page: Overdue[] = await prisma.payment.findMany({
        where: {
          status: 'PENDING',
          createdAt: { lt: cutoff },
          ...(after ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] } : {}),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: PAGE,
        select: { id: true, createdAt: true, providerPaymentId: true },
      });
      for (const payment of page) {
        try {
          await settle(payment);
        } catch (err) {
          logger.error({ err, paymentId: payment.id }, 'reconciling a payment failed; will retry');
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1];
    }
    await retryPendingRefunds({ prisma, provider, logger });
  }

  const poller = createPoller({ name: 'payment reconciliation', intervalMs: options.pollIntervalMs, logger, run });
  return { start: () => poller.start(), run: () => poller.poke(), stop: () => poller.stop() };
}

/** The provider's answer in the shape of the webhook's object, for apply-event.ts. */
function intentOf(paymentId: string, answer: Exclude<ProviderPaymentStatus, { status: 'unknown' }>): PaymentIntentObject {
  return {
    id: answer.providerPaymentId,
    object: 'payment_intent',
    status: answer.status === 'failed' ? 'requires_payment_method' : answer.status,
    amount: answer.amount,
    currency: answer.currency,
    metadata: { paymentId },
    payment_method_details: answer.method,
    last_payment_error: answer.failure ? { code: answer.failure.code, message: answer.failure.message } : null,
  };
}

/** The provider has never heard of the payment: nothing was charged, and nothing will be (FAILED, with PaymentFailed). */
async function failUnreachable(tx: Prisma.TransactionClient, paymentId: string, at: Date): Promise<Applied> {
  const { count } = await tx.payment.updateMany({
    where: { id: paymentId, status: 'PENDING' },
    data: {
      status: 'FAILED',
      failedAt: at,
      failureCode: PROVIDER_UNREACHABLE.code,
      failureReason: PROVIDER_UNREACHABLE.reason,
      purchaseLock: null,
      version: { increment: 1 },
    },
  });
  if (count === 0) return { changed: [], outbox: false, note: 'payment changed concurrently' };
  const failed = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
  await recordPaymentEvent(tx, EVENTS.PaymentFailed, failed);
  return { changed: [failed], outbox: true };
}
