/**
 * Payments' step of a user's account erasure (docs/privacy.md, docs/payments.md "Erasure"). Users
 * sends `AccountErasureRequested { deletionId, userId, pseudonym }`; payments answers
 * `AccountErasureStepCompleted` in the same transaction as the step.
 *
 * Financial records are KEPT (bookkeeping law: payments, refunds, receipts, amounts and dates stay,
 * so every total and `Course.sales` is unchanged) but nothing in them names the person any more:
 *   - `userId` (Payment; Refund.requestedBy when they asked) becomes `pseudonymousUserId(pseudonym)`
 *     (packages/kit/src/events/pseudonyms.ts): the person's records stay grouped, under an id that
 *     leads to no account; the purchase lock "<user>:<course>" follows it;
 *   - the buyer snapshot on payments and receipts: name → the pseudonym, email → null;
 *   - the card's last four digits → null (the brand stays: it says how the money came, not whose card);
 *   - refund reasons written by a person (the payer or an admin) → null; payments' own stays;
 *   - idempotency records (user id + request hash) are deleted: they only serve retries;
 *   - the provider's webhook events about the user's payments are deleted (they carry card details;
 *     all are processed by then, and a late duplicate changes nothing, apply-event.ts);
 *   - the outbox: the user's export parts are deleted, and the user id inside every other row's
 *     payload (payment events, audit entries) becomes the pseudonymous id.
 * Kept as is: the provider's references (providerPaymentId, providerRefundId): the provider's own
 * records, needed to refund or answer a dispute, hold whatever it is obliged to keep. The sandbox
 * provider's tables are that provider's storage, not payments' (docs/payments.md).
 *
 * Held while a payment of the user is in flight: a PENDING payment or refund, or a payment event
 * courses has not answered yet (it must still reach courses under the real id). The step throws
 * `ErasureOnHold` without answering, so the bus delivers the request again (with backoff, then as a
 * dead letter an operator replays) and users, which has no answer, asks again. Payments settle in
 * seconds, or at the latest through reconciliation (PAYMENTS_RECONCILE_AFTER_MS).
 *
 * Idempotent: the step records `ErasureStep` (deletion id → summary) first, in its transaction; a
 * redelivered request finds it, changes nothing and answers again with the same summary. Concurrent
 * deliveries queue on that row's primary key.
 */
import { pseudonymousUserId, type ErasureRequest, type ErasureResult, type ErasureSummary } from '@campus/kit/events';
import { Prisma, type PrismaClient } from './generated/prisma/client.ts';
import { recordEvent } from './outbox.ts';

/** A payment of the user is still in flight: the step waits (see the module comment). */
export class ErasureOnHold extends Error {
  constructor(readonly reason: string) {
    super(`erasure held: ${reason}`);
    this.name = 'ErasureOnHold';
  }
}

/** Payment events courses answers (service.ts); unanswered, they are still on their way. */
const ACKNOWLEDGED_TYPES = ['PaymentSucceeded', 'PaymentRefunded'];
/** The relay's default: a row published more often than this has been given up on, not in flight. */
const MAX_PUBLISHES = 20;

type Tx = Prisma.TransactionClient;

async function inFlight(tx: Tx, userId: string): Promise<string | null> {
  if (await tx.payment.count({ where: { userId, status: 'PENDING' } })) return 'a payment is PENDING';
  if (await tx.refund.count({ where: { status: 'PENDING', payment: { userId } } })) return 'a refund is PENDING';
  const [unanswered] = await tx.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM "OutboxEvent"
     WHERE "type" = ANY(CAST(${ACKNOWLEDGED_TYPES} AS text[])) AND "acknowledgedAt" IS NULL AND "publishCount" <= ${MAX_PUBLISHES}
       AND "payload"->>'userId' = ${userId}`;
  return unanswered!.n > 0 ? 'a payment event has not been answered by courses yet' : null;
}

/** The step itself, inside the transaction; returns what it did. */
async function erase(tx: Tx, userId: string, pseudonym: string): Promise<ErasureSummary> {
  const pseudoId = pseudonymousUserId(pseudonym);
  const paymentIds = (await tx.payment.findMany({ where: { userId }, select: { id: true } })).map((p) => p.id);

  // Reasons a person wrote may name anyone; payments' own (requestedBy null) names nobody.
  const refundsReasonCleared = await tx.refund.updateMany({
    where: { paymentId: { in: paymentIds }, requestedBy: { not: null }, reason: { not: null } },
    data: { reason: null },
  });
  const refundsPseudonymized = await tx.refund.updateMany({ where: { requestedBy: userId }, data: { requestedBy: pseudoId } });
  const receipts = await tx.receipt.updateMany({
    where: { paymentId: { in: paymentIds } },
    data: { buyerName: pseudonym, buyerEmail: null, paymentMethodLast4: null },
  });
  // Raw: the purchase lock is rebuilt from each row's own course.
  const payments = await tx.$executeRaw`
    UPDATE "Payment" SET
      "userId" = CAST(${pseudoId} AS uuid),
      "buyerName" = ${pseudonym},
      "buyerEmail" = NULL,
      "paymentMethodLast4" = NULL,
      "purchaseLock" = CASE WHEN "purchaseLock" IS NULL THEN NULL ELSE ${pseudoId} || ':' || "courseId"::text END,
      "version" = "version" + 1,
      "updatedAt" = now()
     WHERE "userId" = CAST(${userId} AS uuid)`;
  const idempotencyRecords = await tx.idempotencyRecord.deleteMany({ where: { userId } });
  const providerEvents = paymentIds.length
    ? await tx.$executeRaw`
        DELETE FROM "ProviderEvent"
         WHERE "payload"->'data'->'object'->'metadata'->>'paymentId' = ANY(CAST(${paymentIds} AS text[]))`
    : 0;
  const exportParts = await tx.$executeRaw`
    DELETE FROM "OutboxEvent" WHERE "type" = 'DataExportPartReady' AND "payload"->>'userId' = ${userId}`;
  // A user id is a UUID: replacing its text replaces exactly that id, in any payload shape. The
  // answers of erasure steps keep it: users must know which erasure they answer.
  const outboxEvents = await tx.$executeRaw`
    UPDATE "OutboxEvent" SET "payload" = replace("payload"::text, ${userId}, ${pseudoId})::jsonb
     WHERE "type" <> 'AccountErasureStepCompleted' AND strpos("payload"::text, ${userId}) > 0`;

  return {
    paymentsPseudonymized: payments,
    refundsPseudonymized: refundsPseudonymized.count,
    refundReasonsErased: refundsReasonCleared.count,
    receiptsPseudonymized: receipts.count,
    idempotencyRecordsDeleted: idempotencyRecords.count,
    providerEventsDeleted: providerEvents,
    exportPartsDeleted: exportParts,
    outboxEventsPseudonymized: outboxEvents,
  };
}

/** Runs the step once per deletion and answers every delivery; throws ErasureOnHold while a payment is in flight. */
export async function eraseAccount(prisma: PrismaClient, request: ErasureRequest): Promise<ErasureResult> {
  return prisma.$transaction(async (tx) => {
    // Claimed first: a concurrent delivery of the same deletion waits here for this one's commit.
    const claimed = await tx.erasureStep.createMany({ data: [{ deletionId: request.deletionId, summary: {} }], skipDuplicates: true });
    let summary: ErasureSummary;
    if (claimed.count === 0) {
      const done = await tx.erasureStep.findUniqueOrThrow({ where: { deletionId: request.deletionId } });
      summary = done.summary as ErasureSummary;
    } else {
      const held = await inFlight(tx, request.userId);
      if (held) throw new ErasureOnHold(held);
      summary = await erase(tx, request.userId, request.pseudonym);
      await tx.erasureStep.update({ where: { deletionId: request.deletionId }, data: { summary } });
    }
    await recordEvent(tx, 'AccountErasureStepCompleted', {
      acknowledges: request.eventId,
      deletionId: request.deletionId,
      userId: request.userId,
      service: 'payments',
      summary,
    });
    return { summary, first: claimed.count === 1 };
  });
}
