/**
 * Idempotency keys with Stripe's semantics (docs/payments.md), scoped per user and operation: the
 * first request with a key is recorded with a hash of its input; a retry with the same input gets
 * the same payment back; the same key with different input is a CONFLICT. The record is written
 * in the transaction that creates the payment, so it exists exactly when the payment does, and its
 * primary key makes concurrent duplicates collide: one creates, the others read its result.
 */
import { createHash } from 'node:crypto';
import { conflict } from '@campus/kit/core';
import type { IdempotencyRecord, PrismaClient } from './generated/prisma/client.ts';

export type IdempotentOperation = 'checkout';

/** Hash of the request's meaningful input, independent of key order. */
export function requestHash(input: Record<string, string>): string {
  const canonical = JSON.stringify(Object.keys(input).sort().map((k) => [k, input[k]]));
  return createHash('sha256').update(canonical).digest('hex');
}

export function findRecord(prisma: PrismaClient, userId: string, operation: IdempotentOperation, key: string): Promise<IdempotencyRecord | null> {
  return prisma.idempotencyRecord.findUnique({ where: { userId_operation_key: { userId, operation, key } } });
}

/** The payment id a replayed request gets; CONFLICT when the key was used for something else. */
export function replay(record: IdempotencyRecord, hash: string): string {
  if (record.requestHash !== hash) {
    throw conflict(
      'This idempotency key was already used for a different checkout. Use a new key for a new purchase; reuse a key only to retry the same request.',
      { field: 'input.idempotencyKey', paymentId: record.paymentId },
    );
  }
  return record.paymentId;
}
