/**
 * The domain events payments publishes for other services (docs/payments.md), written to
 * the outbox in the same transaction as the change they announce. The courses service enrolls
 * the buyer on PaymentSucceeded and revokes the enrollment on PaymentRefunded.
 */
import type { Payment, Prisma } from './generated/prisma/client.ts';

export const PAYMENT_SUCCEEDED = 'PaymentSucceeded';
export const PAYMENT_REFUNDED = 'PaymentRefunded';

/** The payload courses relies on: { paymentId, userId, courseId }; the rest is for other readers. */
export interface PaymentEventPayload {
  paymentId: string;
  userId: string;
  courseId: string;
  amount: number;
  currency: string;
  [field: string]: string | number;
}

export async function recordPaymentEvent(
  tx: Prisma.TransactionClient,
  type: typeof PAYMENT_SUCCEEDED | typeof PAYMENT_REFUNDED,
  payment: Payment,
  extra: Record<string, string> = {},
): Promise<void> {
  const payload: PaymentEventPayload = {
    paymentId: payment.id,
    userId: payment.userId,
    courseId: payment.courseId,
    amount: payment.amount,
    currency: payment.currency,
    ...extra,
  };
  await tx.outboxEvent.create({ data: { type, payload } });
}
