/**
 * Idempotent consumers (docs/payments.md): the bus delivers at least once, so a consumer
 * records each event id it handled in its own database, in the same transaction as the effect.
 * A second delivery finds the id and skips the effect; two concurrent deliveries collide on the
 * primary key and the second waits for the first, then skips. Effect exactly once.
 *
 * The table (Prisma model in the consuming service):
 *
 *   model ProcessedEvent {
 *     consumer    String
 *     eventId     String   @db.Uuid
 *     processedAt DateTime @default(now()) @db.Timestamptz(3)
 *     @@id([consumer, eventId])
 *   }
 */
import type { DomainEvent } from './event-bus.ts';
import type { RawSql } from './outbox-relay.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Records that `consumer` handled `eventId`. Call it inside the transaction that applies the
 * effect: true means "first time, apply it"; false means "already done, skip".
 */
export async function markEventProcessed(
  tx: Pick<RawSql, '$executeRawUnsafe'>,
  consumer: string,
  eventId: string,
  table = 'ProcessedEvent',
): Promise<boolean> {
  if (!IDENTIFIER.test(table)) throw new Error(`Processed-events table name "${table}" is not a plain identifier.`);
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO "${table}" ("consumer", "eventId") VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING`,
    consumer,
    eventId,
  );
  return inserted === 1;
}

/** Minimal shape of a Prisma client for handleOnce: an interactive transaction. */
export interface TransactionRunner<Tx> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>): PromiseLike<R>;
}

/**
 * Runs `effect` for `event` at most once for `consumer`: marks the event and applies the effect in
 * one transaction. Returns false when the event had been processed before. If the effect throws,
 * nothing is recorded and the bus delivers the event again.
 */
export async function handleOnce<Tx extends Pick<RawSql, '$executeRawUnsafe'>>(
  db: TransactionRunner<Tx>,
  consumer: string,
  event: Pick<DomainEvent, 'id'>,
  effect: (tx: Tx) => Promise<void>,
  table?: string,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    if (!(await markEventProcessed(tx, consumer, event.id, table))) return false;
    await effect(tx);
    return true;
  });
}
