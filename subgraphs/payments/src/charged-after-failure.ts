/**
 * A success for a payment that had already FAILED (docs/payments.md, "Success after failure"):
 * the provider charged the customer after we had told them the payment failed and released the
 * purchase. They get no access for it (the payment stays FAILED: no receipt, no enrollment), so
 * the money goes back by itself, through a Refund that payments requests for them.
 *
 * Exactly once: the Refund is created in the transaction that processes the success, and its
 * unique `openLock` (the payment id) lets only one live refund exist per payment, so the same
 * success delivered twice (or by webhook and by reconciliation) finds it and asks for nothing
 * more. The provider is asked after commit, with the refund's id as its idempotency key; a refund
 * the provider could not take yet stays PENDING without a provider reference, and reconciliation
 * asks again (`retryPendingRefunds`).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@campus/kit/core';
import type { Payment, Prisma, PrismaClient } from './generated/prisma/client.ts';
import type { LiveUpdates } from './live-updates.ts';
import { recordAudit } from './outbox.ts';
import type { PaymentProvider } from './provider/provider.ts';
import type { PaymentsStats } from './stats.ts';
import type { PaymentIntentObject } from './webhooks/provider-event.ts';

/** The reason on a refund payments asked for itself (`Refund.requestedBy` is null on it). */
export const CHARGED_AFTER_FAILURE_REASON = 'charged after the payment had failed';

export interface ChargedAfterFailure {
  paymentId: string;
  refundId: string;
}

export interface ChargedAfterFailureDeps {
  prisma: PrismaClient;
  provider: PaymentProvider;
  live: LiveUpdates;
  logger: Logger;
  stats: PaymentsStats;
}

/**
 * In the transaction that processes the success: the system's refund of what was charged, unless
 * one is already live for the payment. Null when there is (a repeated success).
 */
export async function recordChargedAfterFailure(
  tx: Prisma.TransactionClient,
  payment: Payment,
  intent: PaymentIntentObject,
): Promise<ChargedAfterFailure | null> {
  const refundId = randomUUID();
  // ON CONFLICT DO NOTHING on openLock: a duplicate success must not abort this transaction.
  const { count } = await tx.refund.createMany({
    data: [
      {
        id: refundId,
        paymentId: payment.id,
        amount: intent.amount,
        currency: intent.currency.toUpperCase(),
        reason: CHARGED_AFTER_FAILURE_REASON,
        requestedBy: null,
        openLock: payment.id,
      },
    ],
    skipDuplicates: true,
  });
  if (count === 0) return null;
  // Money moves without anyone asking: the audit log says payments did it, and why.
  await recordAudit(tx, null, 'payments.refund.requested_by_system', payment.id, {
    refundId,
    payerId: payment.userId,
    amount: intent.amount,
    currency: intent.currency.toUpperCase(),
    reason: 'charged_after_failure',
  });
  // The refund goes to the charge that succeeded; keep its reference if the payment had none.
  await tx.payment.update({
    where: { id: payment.id },
    data: { providerPaymentId: payment.providerPaymentId ?? intent.id, version: { increment: 1 } },
  });
  return { paymentId: payment.id, refundId };
}

/** After the commit that recorded it: count, warn, and ask the provider for the money back. */
export async function refundChargedAfterFailure(deps: ChargedAfterFailureDeps, recorded: ChargedAfterFailure): Promise<void> {
  deps.stats.chargedAfterFailureRefunds += 1;
  deps.logger.warn({ paymentId: recorded.paymentId, refundId: recorded.refundId }, 'payment charged after it had failed; refunding it');
  await deps.live.paymentChanged(await deps.prisma.payment.findUniqueOrThrow({ where: { id: recorded.paymentId } }));
  await requestSystemRefund(deps, recorded.refundId);
}

/** Asks the provider for a refund payments requested itself; left PENDING (and retried) if it cannot be reached. */
export async function requestSystemRefund(deps: Omit<ChargedAfterFailureDeps, 'stats' | 'live'>, refundId: string): Promise<void> {
  const refund = await deps.prisma.refund.findUnique({ where: { id: refundId }, include: { payment: true } });
  if (!refund || refund.status !== 'PENDING' || refund.providerRefundId) return;
  try {
    const { providerRefundId } = await deps.provider.refund({
      refundId: refund.id,
      paymentId: refund.paymentId,
      providerPaymentId: refund.payment.providerPaymentId ?? '',
      amount: refund.amount,
      currency: refund.currency,
      idempotencyKey: refund.id,
    });
    await deps.prisma.refund.updateMany({ where: { id: refund.id, providerRefundId: null }, data: { providerRefundId } });
  } catch (err) {
    deps.logger.error({ err, paymentId: refund.paymentId, refundId }, 'the provider did not take the refund of a payment charged after it had failed; will retry');
  }
}

/** How long a system refund may wait for its provider reference before it is asked for again. */
const RETRY_AFTER_MS = 30_000;

/** Reconciliation's part: system refunds the provider never took (it was down, or the process stopped). */
export async function retryPendingRefunds(deps: Omit<ChargedAfterFailureDeps, 'stats' | 'live'>): Promise<void> {
  const stuck = await deps.prisma.refund.findMany({
    where: { status: 'PENDING', providerRefundId: null, requestedBy: null, createdAt: { lt: new Date(Date.now() - RETRY_AFTER_MS) } },
    select: { id: true },
    take: 50,
  });
  for (const { id } of stuck) await requestSystemRefund(deps, id);
}
