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
 * The table needs the columns `id` (uuid, the event id), `type` (text), `payload` (jsonb),
 * `seq` (insertion order), `createdAt` and `publishedAt` (timestamps) — Prisma's `OutboxEvent` model in each service.
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
  onError?: (error: unknown, context: string) => void;
}

export interface OutboxRelay {
  /** Starts polling; also drains at once. */
  start(): void;
  /** Asks for a drain now (e.g. right after committing outbox rows); returns when it is done. */
  notify(): Promise<void>;
  /** Publishes everything unpublished; returns how many rows it published. */
  drain(): Promise<number>;
  /** Stops polling and waits for a drain in progress. */
  stop(): Promise<void>;
}

interface OutboxRow {
  id: string;
  type: string;
  payload: unknown;
  createdAt: Date | string;
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
        `SELECT "id"::text AS "id", "type", "payload", "createdAt" FROM "${table}"
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
        await tx.$executeRawUnsafe(`UPDATE "${table}" SET "publishedAt" = now() WHERE "id" IN (${placeholders})`, ...accepted);
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

  const tick = () => {
    drain()
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
  return {
    id: row.id,
    type: row.type,
    occurredAt: new Date(row.createdAt).toISOString(),
    payload: payload as Record<string, unknown>,
  };
}
