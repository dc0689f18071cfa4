/**
 * Idempotency keys with Stripe's semantics (docs/payments.md), scoped per user and operation.
 *
 * The key is claimed before anything else is looked at: the first request with it inserts its
 * record with no payment yet (in progress), and only then asks courses and users and checks what
 * can be bought. Every later request with the key finds the record first:
 *   - other input: CONFLICT, at once;
 *   - the payment is there: the first call's result, whatever has happened since (the buyer may
 *     be enrolled by now, which would otherwise refuse a fresh checkout);
 *   - still in progress: it waits (polling, up to `waitMs`) for the first to finish, then
 *     answers with its result; past the wait, a CONFLICT telling the client to retry the same key.
 * A first request that fails before it creates a payment (a refusal, courses unreachable ...)
 * removes its claim, so a retry is judged afresh; one that died holding it (the process stopped)
 * leaves a claim that a retry takes over once it is `staleMs` old. Records are kept for
 * PAYMENTS_IDEMPOTENCY_RETENTION_HOURS (Stripe keeps keys 24 h), then pruned in batches; a key
 * older than that counts as new even before the pruning job got to it.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict } from '@campus/kit/core';
import { Prisma, type IdempotencyRecord, type PrismaClient } from './generated/prisma/client.ts';

export type IdempotentOperation = 'checkout';

export interface KeyScope {
  userId: string;
  operation: IdempotentOperation;
  key: string;
}

export interface KeyPolicy {
  /** How long a key is kept (and replays its first result). */
  retentionMs: number;
  /** How long a duplicate waits for the first request with its key before asking the client to retry. */
  waitMs?: number;
  /** How old a claim with no payment must be before it counts as abandoned. */
  staleMs?: number;
}

/** This request holds the key (`claimedAt` identifies its claim), or the key already has a payment. */
export type Claim = { kind: 'claimed'; claimedAt: Date } | { kind: 'replay'; paymentId: string };

const WAIT_MS = 10_000;
/** As long as checkout gives a payment that never reached the provider (checkout.ts). */
const STALE_MS = 30_000;
const POLL_MS = 50;

const scopeKey = (s: KeyScope) => ({ userId_operation_key: { userId: s.userId, operation: s.operation, key: s.key } });

/** Hash of the request's meaningful input, independent of key order. */
export function requestHash(input: Record<string, string>): string {
  const canonical = JSON.stringify(Object.keys(input).sort().map((k) => [k, input[k]]));
  return createHash('sha256').update(canonical).digest('hex');
}

export function findRecord(prisma: PrismaClient, scope: KeyScope): Promise<IdempotencyRecord | null> {
  return prisma.idempotencyRecord.findUnique({ where: scopeKey(scope) });
}

const differentRequest = (record: IdempotencyRecord) =>
  conflict(
    'This idempotency key was already used for a different checkout. Use a new key for a new purchase; reuse a key only to retry the same request.',
    { field: 'input.idempotencyKey', ...(record.paymentId ? { paymentId: record.paymentId } : {}) },
  );

const stillInProgress = () =>
  conflict('A request with this idempotency key is still being processed. Retry with the same key in a moment to get its result.', {
    field: 'input.idempotencyKey',
    reason: 'idempotency_key_in_use',
    retryAfterSeconds: 1,
  });

/** Claims `scope` for this request, or says which payment the key already stands for. */
export async function claimKey(prisma: PrismaClient, scope: KeyScope, hash: string, policy: KeyPolicy): Promise<Claim> {
  const deadline = Date.now() + (policy.waitMs ?? WAIT_MS);
  const staleMs = policy.staleMs ?? STALE_MS;
  for (;;) {
    const claimedAt = new Date();
    try {
      await prisma.idempotencyRecord.create({ data: { ...scope, requestHash: hash, paymentId: null, createdAt: claimedAt } });
      return { kind: 'claimed', claimedAt };
    } catch (e) {
      if (!(e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')) throw e;
    }
    const record = await findRecord(prisma, scope);
    // Removed meanwhile (the first request failed, or the key expired): claim it afresh.
    if (!record) continue;
    const age = Date.now() - record.createdAt.getTime();
    if (age > policy.retentionMs) {
      await prisma.idempotencyRecord.deleteMany({ where: { ...scope, createdAt: record.createdAt } });
      continue;
    }
    if (record.requestHash !== hash) throw differentRequest(record);
    if (record.paymentId) return { kind: 'replay', paymentId: record.paymentId };
    if (age > staleMs) {
      // Abandoned by a request that never finished: take it over (once, whoever updates first).
      const now = new Date();
      const taken = await prisma.idempotencyRecord.updateMany({
        where: { ...scope, paymentId: null, createdAt: record.createdAt },
        data: { createdAt: now },
      });
      if (taken.count === 1) return { kind: 'claimed', claimedAt: now };
      continue;
    }
    if (Date.now() >= deadline) throw stillInProgress();
    await sleep(POLL_MS);
  }
}

/** The claim was taken over meanwhile: the payment being created must not be. */
export class LostClaimError extends Error {
  constructor() {
    super('the idempotency key was claimed by another request meanwhile');
    this.name = 'LostClaimError';
  }
}

/** In the transaction that creates the payment: the key now stands for it. Throws LostClaimError if the claim is gone. */
export async function bindKey(tx: Prisma.TransactionClient, scope: KeyScope, claimedAt: Date, paymentId: string): Promise<void> {
  const { count } = await tx.idempotencyRecord.updateMany({ where: { ...scope, paymentId: null, createdAt: claimedAt }, data: { paymentId } });
  if (count !== 1) throw new LostClaimError();
}

/** The request failed before creating a payment: forget the claim so a retry is judged afresh. */
export async function releaseKey(prisma: PrismaClient, scope: KeyScope, claimedAt: Date): Promise<void> {
  await prisma.idempotencyRecord.deleteMany({ where: { ...scope, paymentId: null, createdAt: claimedAt } });
}

const PRUNE_BATCH = 1_000;

/** Deletes records older than the retention, a batch at a time (short statements, short locks); returns how many. */
export async function pruneExpiredKeys(prisma: PrismaClient, retentionMs: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionMs);
  let total = 0;
  for (;;) {
    const deleted = await prisma.$executeRaw`
      DELETE FROM "IdempotencyRecord" WHERE ("userId", "operation", "key") IN (
        SELECT "userId", "operation", "key" FROM "IdempotencyRecord" WHERE "createdAt" < ${cutoff} LIMIT ${PRUNE_BATCH})`;
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
  }
}
