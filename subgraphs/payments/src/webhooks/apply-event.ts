/**
 * What a provider event does to our data, inside the transaction that also marks the event
 * processed. Deliveries are at least once and unordered (docs/payments.md), so every change is a
 * conditional update from the one state it may come from: a duplicate, or an event overtaken by a
 * later one (processing after succeeded, failed after succeeded), changes nothing.
 *
 * Reconciliation (src/reconciliation.ts) settles payments whose webhook never came through the
 * same functions (`applyIntentSucceeded`, `applyIntentFailed`), so both paths do exactly the same.
 * A success for a payment that had already FAILED means the customer was charged for nothing: it
 * is recorded for an automatic refund (src/charged-after-failure.ts), never fulfilled.
 */
import { EVENTS } from '@campus/kit/events';
import { recordChargedAfterFailure, type ChargedAfterFailure } from '../charged-after-failure.ts';
import { recordPaymentEvent } from '../outbox.ts';
import type { Payment, Prisma } from '../generated/prisma/client.ts';
import { canTransition, canTransitionRefund } from '../payment-state.ts';
import { issueReceipt } from '../receipts.ts';
import type { PaymentIntentObject, ProviderEvent, RefundObject } from './provider-event.ts';

export interface Applied {
  /** Payments whose state changed (for live updates after commit). */
  changed: Payment[];
  /** Whether outbox rows were written (the relay should run). */
  outbox: boolean;
  /** Why nothing changed, when nothing did; kept on the ProviderEvent row. */
  note?: string;
  /** A success for a FAILED payment, recorded in this transaction: refund it after commit. */
  chargedAfterFailure?: ChargedAfterFailure;
}

/** Whether the caller has anything to do after commit. */
export const hasEffects = (a: Applied | null | undefined): a is Applied =>
  Boolean(a && (a.changed.length > 0 || a.outbox || a.chargedAfterFailure));

const nothing = (note: string): Applied => ({ changed: [], outbox: false, note });

export async function applyProviderEvent(tx: Prisma.TransactionClient, event: ProviderEvent): Promise<Applied> {
  const at = new Date(event.created * 1000);
  switch (event.type) {
    case 'payment_intent.processing':
      return nothing('processing: the payment stays PENDING');
    case 'payment_intent.succeeded':
      return applyIntentSucceeded(tx, event.data.object, at);
    case 'payment_intent.payment_failed':
      return applyIntentFailed(tx, event.data.object, at);
    case 'refund.updated':
      return refundUpdated(tx, event.data.object, at);
  }
}

/** The provider charged the customer: PENDING -> SUCCEEDED with a receipt and PaymentSucceeded. */
export async function applyIntentSucceeded(tx: Prisma.TransactionClient, intent: PaymentIntentObject, paidAt: Date): Promise<Applied> {
  const payment = await tx.payment.findUnique({ where: { id: intent.metadata.paymentId } });
  if (!payment) return nothing(`no payment ${intent.metadata.paymentId}`);
  if (payment.status === 'FAILED') {
    // Charged after we gave up on the payment (and released the purchase): the money goes back.
    const recorded = await recordChargedAfterFailure(tx, payment, intent);
    return recorded
      ? { changed: [], outbox: true, note: 'payment is FAILED; charged after the failure, refund requested', chargedAfterFailure: recorded }
      : nothing('payment is FAILED; its charge is already being refunded');
  }
  if (!canTransition(payment.status, 'SUCCEEDED')) return nothing(`payment is ${payment.status}; not SUCCEEDED again`);
  if (intent.amount !== payment.amount || intent.currency.toUpperCase() !== payment.currency) {
    // Never fulfil a payment for another amount than the one we asked for.
    return nothing(`amount ${intent.amount} ${intent.currency} differs from ${payment.amount} ${payment.currency}`);
  }
  const { count } = await tx.payment.updateMany({
    where: { id: payment.id, status: 'PENDING' },
    data: {
      status: 'SUCCEEDED',
      paidAt,
      providerPaymentId: payment.providerPaymentId ?? intent.id,
      paymentMethodBrand: intent.payment_method_details?.brand ?? payment.paymentMethodBrand,
      paymentMethodLast4: intent.payment_method_details?.last4 ?? payment.paymentMethodLast4,
      version: { increment: 1 },
    },
  });
  if (count === 0) return nothing('payment changed concurrently');
  const updated = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
  await issueReceipt(tx, updated, paidAt);
  await recordPaymentEvent(tx, EVENTS.PaymentSucceeded, updated);
  return { changed: [updated], outbox: true };
}

/** The provider will not charge: PENDING -> FAILED with its reason and PaymentFailed; the purchase is released. */
export async function applyIntentFailed(tx: Prisma.TransactionClient, intent: PaymentIntentObject, failedAt: Date): Promise<Applied> {
  const payment = await tx.payment.findUnique({ where: { id: intent.metadata.paymentId } });
  if (!payment) return nothing(`no payment ${intent.metadata.paymentId}`);
  if (!canTransition(payment.status, 'FAILED')) return nothing(`payment is ${payment.status}; not FAILED`);
  const error = intent.last_payment_error;
  const { count } = await tx.payment.updateMany({
    where: { id: payment.id, status: 'PENDING' },
    data: {
      status: 'FAILED',
      failedAt,
      failureCode: error?.decline_code ?? error?.code ?? 'payment_failed',
      failureReason: error?.message ?? 'The payment was not accepted.',
      providerPaymentId: payment.providerPaymentId ?? intent.id,
      // The purchase is over: the buyer may try again with another payment method.
      purchaseLock: null,
      version: { increment: 1 },
    },
  });
  if (count === 0) return nothing('payment changed concurrently');
  const failed = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
  // With the change: users stops counting the payment as in flight (docs/privacy.md).
  await recordPaymentEvent(tx, EVENTS.PaymentFailed, failed);
  return { changed: [failed], outbox: true };
}

async function refundUpdated(tx: Prisma.TransactionClient, object: RefundObject, at: Date): Promise<Applied> {
  const refund = await tx.refund.findUnique({ where: { id: object.metadata.refundId } });
  if (!refund) return nothing(`no refund ${object.metadata.refundId}`);
  if (object.status === 'pending') return nothing('refund pending');
  const to = object.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED';
  if (!canTransitionRefund(refund.status, to)) return nothing(`refund is ${refund.status}; not ${to}`);

  const { count } = await tx.refund.updateMany({
    where: { id: refund.id, status: 'PENDING' },
    data:
      to === 'SUCCEEDED'
        ? { status: 'SUCCEEDED', completedAt: at, providerRefundId: refund.providerRefundId ?? object.id }
        : { status: 'FAILED', completedAt: at, failureReason: object.failure_reason ?? 'The provider refused the refund.', openLock: null },
  });
  if (count === 0) return nothing('refund changed concurrently');

  if (to === 'FAILED') {
    // The payment itself does not change; bump its version so subscribers see the refund's fate.
    const payment = await tx.payment.update({ where: { id: refund.paymentId }, data: { version: { increment: 1 } } });
    return { changed: [payment], outbox: false };
  }
  const moved = await tx.payment.updateMany({
    where: { id: refund.paymentId, status: 'SUCCEEDED' },
    data: { status: 'REFUNDED', refundedAt: at, purchaseLock: null, version: { increment: 1 } },
  });
  if (moved.count === 0) return nothing('payment is not SUCCEEDED; refund recorded only');
  await tx.receipt.updateMany({ where: { paymentId: refund.paymentId }, data: { refundedAt: at } });
  const payment = await tx.payment.findUniqueOrThrow({ where: { id: refund.paymentId } });
  await recordPaymentEvent(tx, EVENTS.PaymentRefunded, payment, { refundId: refund.id });
  return { changed: [payment], outbox: true };
}
