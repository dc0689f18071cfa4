/**
 * The audit log (docs/privacy.md): privileged and security-relevant actions of every service, in
 * one hash chain in the users database. Users appends its own entries inside the transaction of
 * the action; courses and payments send theirs as `AuditRecorded` events (event-handlers.ts),
 * appended once under the event's id.
 *
 * Each entry's `hash` is sha256 over the previous entry's hash and a canonical serialization of its
 * own fields (`entryHash`), so editing, removing or reordering any entry breaks every hash after
 * it: `verifyAuditChain` (what `npm run audit:verify` and the tests run) finds the first broken
 * `seq`. Appends are serialized by a transaction-scoped advisory lock, so however many users
 * instances append at once the chain stays one line and `seq` has no gaps. The lock is taken last in
 * each transaction (after any row locks), so it never waits inside a lock order of its own.
 *
 * No API edits entries; the migration adds a trigger refusing UPDATE, DELETE and TRUNCATE too.
 */
import { createHash, randomUUID } from 'node:crypto';
import { currentRequestId } from '@campus/kit/core';
import type { AuditEntry, Prisma } from './generated/prisma/client.ts';

/** The advisory lock key of the chain's tail (any constant no other code of this database uses). */
const AUDIT_CHAIN_LOCK = 6_172_931_405;

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditInput {
  /** The entry's id: an AuditRecorded event's id, or a new one for users' own entries. */
  id?: string;
  at?: Date;
  service: 'users' | 'courses' | 'payments';
  actorId: string | null;
  action: string;
  targetId: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/** The fields a hash covers, as they are stored. */
export interface HashedFields {
  id: string;
  seq: bigint;
  at: Date;
  service: string;
  actorId: string | null;
  action: string;
  targetId: string | null;
  requestId: string | null;
  details: unknown;
}

/** JSON with object keys sorted at every level: the same value always serializes the same way. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function entryHash(prevHash: string, e: HashedFields): string {
  const fields = {
    id: e.id,
    seq: e.seq.toString(),
    at: e.at.toISOString(),
    service: e.service,
    actorId: e.actorId,
    action: e.action,
    targetId: e.targetId,
    requestId: e.requestId,
    details: e.details,
  };
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(fields)).digest('hex');
}

/**
 * Appends one entry at the chain's tail, in `tx` (the action's own transaction, so the entry
 * commits exactly when the action does). An entry whose id is already in the log is not appended
 * again (a redelivered AuditRecorded); false then.
 */
export async function appendAudit(tx: Prisma.TransactionClient, input: AuditInput): Promise<boolean> {
  await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1::bigint)', AUDIT_CHAIN_LOCK);
  const id = input.id ?? randomUUID();
  if (input.id && (await tx.auditEntry.findUnique({ where: { id }, select: { id: true } }))) return false;
  const tail = await tx.auditEntry.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  // Stored as jsonb, read back as JSON: hash what will be read back (no undefined, no Date objects).
  const details = JSON.parse(JSON.stringify(input.details ?? {})) as Prisma.InputJsonObject;
  const fields: HashedFields = {
    id,
    seq: (tail?.seq ?? 0n) + 1n,
    // Timestamps are stored to the millisecond.
    at: new Date(Math.floor((input.at ?? new Date()).getTime())),
    service: input.service,
    actorId: input.actorId,
    action: input.action,
    targetId: input.targetId,
    requestId: input.requestId === undefined ? (currentRequestId() ?? null) : input.requestId,
    details,
  };
  const prevHash = tail?.hash ?? GENESIS_HASH;
  await tx.auditEntry.create({ data: { ...fields, details, prevHash, hash: entryHash(prevHash, fields) } });
  return true;
}

/** users' own entry: the platform (actor null) or a signed-in actor did `action` to `targetId`. */
export const usersAudit = (actorId: string | null, action: string, targetId: string | null, details?: Record<string, unknown>): AuditInput => ({
  service: 'users',
  actorId,
  action,
  targetId,
  ...(details ? { details } : {}),
});

export type ChainVerdict =
  | { ok: true; count: number }
  | { ok: false; count: number; brokenSeq: bigint; reason: string };

/** What verifyAuditChain reads: the Prisma client of the users database. */
interface AuditReader {
  auditEntry: { findMany(args: { where: { seq: { gt: bigint } }; orderBy: { seq: 'asc' }; take: number }): PromiseLike<AuditEntry[]> };
}

/**
 * Walks the whole chain in `seq` order and recomputes every hash. The first entry whose seq is not
 * the next number, whose prevHash is not the previous entry's hash, or whose hash does not match
 * its fields is where the log was tampered with: `brokenSeq`.
 */
export async function verifyAuditChain(db: AuditReader, batchSize = 1000): Promise<ChainVerdict> {
  let prevHash = GENESIS_HASH;
  let expected = 1n;
  let count = 0;
  for (;;) {
    const rows = await db.auditEntry.findMany({ where: { seq: { gt: expected - 1n } }, orderBy: { seq: 'asc' }, take: batchSize });
    for (const row of rows) {
      const broken = (reason: string): ChainVerdict => ({ ok: false, count, brokenSeq: row.seq, reason });
      if (row.seq !== expected) return { ok: false, count, brokenSeq: expected, reason: `entry ${expected} is missing (next is ${row.seq})` };
      if (row.prevHash !== prevHash) return broken(`prevHash is not the hash of entry ${expected - 1n}`);
      if (row.hash !== entryHash(prevHash, row)) return broken('hash does not match the entry (it was edited)');
      prevHash = row.hash;
      expected += 1n;
      count += 1;
    }
    if (rows.length < batchSize) return { ok: true, count };
  }
}
