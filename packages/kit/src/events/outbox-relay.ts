/**
 * The outbox relay (docs/payments.md): moves rows a service committed to its outbox table
 * onto the event bus.
 *
 * The service writes an outbox row in the same transaction as the state change, so the event exists
 * exactly when the change does. The relay then, in its own transaction:
 *   1. locks a batch of unpublished rows, oldest first (FOR UPDATE SKIP LOCKED, so several
 *      instances relay different rows instead of the same ones),
 *   2. publishes each and waits for the bus to accept it,
 *   3. marks as published only the rows the bus accepted.
 * A crash anywhere before 3 commits leaves the rows unpublished, and the next drain (this process
 * after a restart, or another instance) publishes them: at least once. A crash after the bus
 * accepted but before 3 commits publishes again; consumers deduplicate on the event id.
 *
 * It polls (every `pollIntervalMs`) so nothing depends on an in-memory signal surviving; `notify()`
 * drains at once after a commit so events do not wait for the next tick.
 *
 * Acknowledged delivery (docs/delivery.md). Marking a row published only says the bus took it; the
 * bus can still lose it (Redis restarted without its data) and nothing would ever say so. For the
 * types listed in `acknowledgements`, the consumer answers with an event of its own, and the producer
 * records that answer on the row (`acknowledgeOutboxEvent`). A row of such a type still
 * unacknowledged `timeoutMs` after it was published is made unpublished again, so the relay
 * publishes it once more, with the same event id: consumers deduplicate on it, and answer again.
 * After `maxPublishes` the relay stops and reports the row once instead (a consumer that never
 * answers must not be flooded); such a row's publishCount is then maxPublishes + 1.
 *
 * The table needs the columns `id` (uuid, the event id), `type` (text), `payload` (jsonb),
 * `seq` (insertion order), `createdAt`, `publishedAt` and `acknowledgedAt` (timestamps) and
 * `publishCount` (int), and `traceContext` (jsonb, nullable: the W3C trace context of the writing
 * transaction, handed on as the event's `traceContext`) — Prisma's `OutboxEvent` model in each service.
 */
import type { DomainEvent, EventBus } from './event-bus.ts';

/** What the relay needs of a Prisma client (or a transaction of one): raw SQL with parameters. */
export interface RawSql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

export interface TransactionalSql {
  $transaction<R>(fn: (tx: RawSql) => Promise<R>, options?: { maxWait?: number; timeout?: number }): PromiseLike<R>;
}

export interface OutboxRelayOptions {
  db: TransactionalSql;
  bus: EventBus;
  /** Table name as created by the migrations; default "OutboxEvent". */
  table?: string;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Event types whose consumer acknowledges them, and when to publish them again. */
  acknowledgements?: AcknowledgementPolicy;
  onError?: (error: unknown, context: string) => void;
  /** Told about every row published again for want of an acknowledgement, and every row given up on. */
  onRepublish?: (row: { id: string; type: string; publishCount: number; givenUp: boolean }) => void;
}

export interface AcknowledgementPolicy {
  types: readonly string[];
  /** How long after publishing an unacknowledged row is published again. */
  timeoutMs: number;
  /** How many times a row is published at most (default 20). */
  maxPublishes?: number;
}

export interface OutboxRelay {
  /** Starts polling; also drains at once. */
  start(): void;
  /** Asks for a drain now (e.g. right after committing outbox rows); returns when it is done. */
  notify(): Promise<void>;
  /** Publishes everything unpublished; returns how many rows it published. */
  drain(): Promise<number>;
  /**
   * Makes rows unpublished again whose acknowledgement is overdue (see `acknowledgements`); returns
   * how many. Runs on every poll; tests and tools call it directly.
   */
  republishUnacknowledged(): Promise<number>;
  /** Stops polling and waits for a drain in progress. */
  stop(): Promise<void>;
}

interface OutboxRow {
  id: string;
  type: string;
  payload: unknown;
  createdAt: Date | string;
  traceContext: unknown;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const table = options.table ?? 'OutboxEvent';
  if (!IDENTIFIER.test(table)) throw new Error(`Outbox table name "${table}" is not a plain identifier.`);
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const onError = options.onError ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  /** One batch in one transaction; returns [published, whether more may be waiting]. */
  async function relayBatch(): Promise<[number, boolean]> {
    return options.db.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<OutboxRow[]>(
        `SELECT "id"::text AS "id", "type", "payload", "createdAt", "traceContext" FROM "${table}"
          WHERE "publishedAt" IS NULL ORDER BY "seq" LIMIT $1 FOR UPDATE SKIP LOCKED`,
        batchSize,
      );
      const accepted: string[] = [];
      let failed = false;
      for (const row of rows) {
        try {
          await options.bus.publish(toEvent(row));
          accepted.push(row.id);
        } catch (error) {
          // Keep order: later rows wait for this one rather than overtake it.
          onError(error, `publishing ${row.type} ${row.id} from ${table}; will retry`);
          failed = true;
          break;
        }
      }
      if (accepted.length > 0) {
        const placeholders = accepted.map((_, i) => `$${i + 1}::uuid`).join(', ');
        await tx.$executeRawUnsafe(
          `UPDATE "${table}" SET "publishedAt" = now(), "publishCount" = "publishCount" + 1 WHERE "id" IN (${placeholders})`,
          ...accepted,
        );
      }
      return [accepted.length, !failed && rows.length === batchSize];
    }, { timeout: 30_000, maxWait: 10_000 });
  }

  async function drainAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const [count, more] = await relayBatch();
      total += count;
      if (!more) return total;
    }
  }

  /** One drain at a time; a request during a drain schedules exactly one more afterwards. */
  function drain(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await drainAll();
        } while (again && !stopped);
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  }

  const policy = options.acknowledgements;
  const maxPublishes = policy?.maxPublishes ?? 20;
  async function republishUnacknowledged(): Promise<number> {
    if (!policy || policy.types.length === 0) return 0;
    const overdue = `"acknowledgedAt" IS NULL AND "publishedAt" IS NOT NULL AND "type" = ANY($1::text[])
       AND "publishedAt" < now() - ($2::int * interval '1 millisecond')`;
    type Row = { id: string; type: string; publishCount: number };
    const again = await options.db.$transaction(async (tx) =>
      tx.$queryRawUnsafe<Row[]>(
        `UPDATE "${table}" SET "publishedAt" = NULL WHERE ${overdue} AND "publishCount" < $3
          RETURNING "id"::text AS "id", "type", "publishCount"`,
        [...policy.types],
        policy.timeoutMs,
        maxPublishes,
      ),
    );
    for (const row of again) options.onRepublish?.({ ...row, publishCount: Number(row.publishCount), givenUp: false });
    // Given up: counted one past the limit, so each such row is reported exactly once.
    const givenUp = await options.db.$transaction(async (tx) =>
      tx.$queryRawUnsafe<Row[]>(
        `UPDATE "${table}" SET "publishCount" = "publishCount" + 1 WHERE ${overdue} AND "publishCount" = $3
          RETURNING "id"::text AS "id", "type", "publishCount"`,
        [...policy.types],
        policy.timeoutMs,
        maxPublishes,
      ),
    );
    for (const row of givenUp) options.onRepublish?.({ ...row, publishCount: Number(row.publishCount) - 1, givenUp: true });
    return again.length;
  }

  const tick = () => {
    republishUnacknowledged()
      .catch((e) => onError(e, `republishing unacknowledged rows of ${table}`))
      .then(() => drain())
      .catch((e) => onError(e, `draining ${table}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, pollIntervalMs);
      });
  };

  return {
    start() {
      if (timer || stopped) return;
      timer = setTimeout(tick, 0);
    },
    async notify() {
      if (stopped) return;
      await drain().catch((e) => onError(e, `draining ${table}`));
    },
    drain,
    republishUnacknowledged,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}

function toEvent(row: OutboxRow): DomainEvent {
  const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
  const traceContext = typeof row.traceContext === 'string' ? JSON.parse(row.traceContext) : row.traceContext;
  return {
    id: row.id,
    type: row.type,
    occurredAt: new Date(row.createdAt).toISOString(),
    payload: payload as Record<string, unknown>,
    ...(traceContext && typeof traceContext === 'object' ? { traceContext: traceContext as Record<string, string> } : {}),
  };
}

/**
 * Records the consumer's answer to outbox row `eventId` (see "Acknowledged delivery" above): the
 * relay no longer publishes it again. True the first time; a repeated answer changes nothing.
 */
export async function acknowledgeOutboxEvent(db: Pick<RawSql, '$executeRawUnsafe'>, eventId: string, table = 'OutboxEvent'): Promise<boolean> {
  if (!IDENTIFIER.test(table)) throw new Error(`Outbox table name "${table}" is not a plain identifier.`);
  const updated = await db.$executeRawUnsafe(
    `UPDATE "${table}" SET "acknowledgedAt" = now() WHERE "id" = $1::uuid AND "acknowledgedAt" IS NULL`,
    eventId,
  );
  return updated === 1;
}
