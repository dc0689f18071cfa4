/**
 * The payment and refund state machines (docs/decisions.md, docs/payments.md). Every status
 * change is checked with `canTransition` (and applied as an update conditional on the current
 * status); webhooks arrive duplicated and out of order, so a change that is not allowed from the
 * current state is ignored, never applied.
 *
 *   Payment: PENDING -> SUCCEEDED | FAILED;  SUCCEEDED -> REFUNDED
 *   Refund:  PENDING -> SUCCEEDED | FAILED
 */
import type { PaymentStatus, RefundStatus } from './generated/prisma/enums.ts';

const PAYMENT: Record<PaymentStatus, readonly PaymentStatus[]> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: ['REFUNDED'],
  FAILED: [],
  REFUNDED: [],
};

const REFUND: Record<RefundStatus, readonly RefundStatus[]> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

export const canTransition = (from: PaymentStatus, to: PaymentStatus) => PAYMENT[from].includes(to);
export const canTransitionRefund = (from: RefundStatus, to: RefundStatus) => REFUND[from].includes(to);

/**
 * The value of `Payment.purchaseLock` in a status: held while the purchase is open or paid, so a
 * user cannot start a second purchase of the same course; released when it failed or was refunded.
 */
export const purchaseLockFor = (status: PaymentStatus, userId: string, courseId: string): string | null =>
  status === 'PENDING' || status === 'SUCCEEDED' ? `${userId}:${courseId}` : null;
