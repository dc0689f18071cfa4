/**
 * The events payments publishes for other services (docs/payments.md), written to the outbox in
 * the same transaction as the change they announce, so one never exists without the other. The
 * kit's relay publishes them to the event bus. Names and payloads are the kit's event contracts
 * (packages/kit/src/events/contracts.ts): courses enrolls the buyer on PaymentSucceeded and revokes
 * the enrollment on PaymentRefunded.
 */
import { currentTraceContext } from '@campus/kit/core';
import type { EventPayloadInput } from '@campus/kit/events';
import type { Payment, Prisma } from './generated/prisma/client.ts';

export async function recordPaymentEvent(
  tx: Prisma.TransactionClient,
  type: 'PaymentSucceeded' | 'PaymentRefunded',
  payment: Payment,
  extra: { refundId?: string } = {},
): Promise<void> {
  const payload: EventPayloadInput<typeof type> = {
    paymentId: payment.id,
    userId: payment.userId,
    courseId: payment.courseId,
    amount: payment.amount,
    currency: payment.currency,
    ...extra,
  };
  // The trace of the transaction that settled the payment: the event's consumers link to it.
  await tx.outboxEvent.create({ data: { type, payload, traceContext: currentTraceContext() } });
}
