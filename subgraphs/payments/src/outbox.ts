/**
 * The events payments publishes for other services (docs/payments.md), written to the outbox in
 * the same transaction as the change they announce, so one never exists without the other. The
 * kit's relay publishes them to the event bus. Names and payloads are the kit's event contracts
 * (packages/kit/src/events/contracts.ts):
 *   - PaymentStarted / PaymentSucceeded / PaymentFailed / PaymentRefunded: a payment's life. Courses
 *     enrolls the buyer on PaymentSucceeded and revokes the enrollment on PaymentRefunded; users
 *     follows Started/Succeeded/Failed to know whether a buyer has a payment in flight (it refuses
 *     to erase such an account, docs/privacy.md).
 *   - AuditRecorded: a privileged or security-relevant action (a refund asked for), for users'
 *     audit log, written in the action's own transaction.
 *   - DataExportPartReady / AccountErasureStepCompleted: payments' answers in users' export and
 *     erasure sagas (data-export.ts, erasure.ts).
 */
import { currentTraceContext } from '@campus/kit/core';
import { auditRecord, type AuditDetails, type EventPayloadInput, type EventType } from '@campus/kit/events';
import type { Payment, Prisma } from './generated/prisma/client.ts';

type PaymentEventType = 'PaymentStarted' | 'PaymentSucceeded' | 'PaymentFailed' | 'PaymentRefunded';

export async function recordPaymentEvent(
  tx: Prisma.TransactionClient,
  type: PaymentEventType,
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
  await recordEvent(tx, type, payload);
}

/**
 * An AuditRecorded event: `actor` (null: payments itself) did `action` to `targetId`. The payload
 * is the kit's (packages/kit/src/events/audit.ts), shared with courses.
 */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  actor: { id: string } | null,
  action: string,
  targetId: string | null,
  details?: AuditDetails,
): Promise<void> {
  await recordEvent(tx, 'AuditRecorded', auditRecord('payments', actor, action, targetId, details));
}

/** Any contract event; the trace of the writing transaction goes with it, for its consumers' spans to link to. */
export async function recordEvent<T extends EventType>(tx: Prisma.TransactionClient, type: T, payload: EventPayloadInput<T>): Promise<void> {
  await tx.outboxEvent.create({ data: { type, payload: payload as Prisma.InputJsonValue, traceContext: currentTraceContext() } });
}
