/**
 * The outbox relay and the processed-events helper against a real database: an in-memory PGlite,
 * and a throwaway PostgreSQL database when TEST_DATABASE_URL is set. The tables are the ones the
 * services' Prisma models create; the relay talks to them through the same raw-SQL surface a Prisma
 * client offers ($transaction, $queryRawUnsafe, $executeRawUnsafe), adapted here over each driver.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { createEmptyPglite } from '../src/tooling/pglite-template.ts';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { domainEvent, type DomainEvent, type EventBus } from '../src/events/event-bus.ts';
import { createMemoryEventBus } from '../src/events/memory-bus.ts';
import { acknowledgeOutboxEvent, createOutboxRelay, type RawSql, type TransactionalSql } from '../src/events/outbox-relay.ts';
import { handleOnce, markEventProcessed } from '../src/events/processed-events.ts';

const SCHEMA = `
  CREATE TABLE "OutboxEvent" (
    "id" UUID NOT NULL PRIMARY KEY,
    "seq" BIGSERIAL NOT NULL UNIQUE,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "publishedAt" TIMESTAMPTZ(3),
    "acknowledgedAt" TIMESTAMPTZ(3),
    "publishCount" INTEGER NOT NULL DEFAULT 0,
    "traceContext" JSONB
  );
  CREATE TABLE "ProcessedEvent" (
    "consumer" TEXT NOT NULL,
    "eventId" UUID NOT NULL,
    "processedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY ("consumer", "eventId")
  );
  CREATE TABLE "Effect" ("eventId" UUID NOT NULL);
`;

interface Db extends TransactionalSql, RawSql {
  close(): Promise<void>;
}

async function openPglite(): Promise<Db> {
  const db = await createEmptyPglite();
  await db.exec(SCHEMA);
  const raw = (q: PGlite | Transaction): RawSql => ({
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await q.query(sql, values)).rows as T,
    $executeRawUnsafe: async (sql: string, ...values: unknown[]) => (await q.query(sql, values)).affectedRows ?? 0,
  });
  return {
    ...raw(db),
    $transaction: (fn) => db.transaction((tx) => fn(raw(tx))),
    close: () => db.close(),
  };
}

async function openPostgres(adminUrl: string): Promise<Db> {
  const name = `campus_outbox_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString() });
  await pool.query(SCHEMA);
  const raw = (q: pg.Pool | pg.PoolClient): RawSql => ({
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await q.query(sql, values)).rows as T,
    $executeRawUnsafe: async (sql: string, ...values: unknown[]) => (await q.query(sql, values)).rowCount ?? 0,
  });
  return {
    ...raw(pool),
    async $transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(raw(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      } finally {
        client.release();
      }
    },
    async close() {
      // pool.end() resolves once its clients are out of the pool, not once their sockets closed:
      // the forced drop below may terminate one still closing (57P01), which the pool reports as
      // an 'error' event, thrown when nobody listens. Expected here, and only here.
      pool.on('error', () => {});
      await pool.end();
      const c = new pg.Client(adminUrl);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

const backends = [
  { name: 'PGlite', open: openPglite },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'PostgreSQL', open: () => openPostgres(process.env.TEST_DATABASE_URL!) }] : []),
];

/** A state change and its outbox row, committed together (what a service does). */
async function commitWithEvent(db: Db, type: string, payload: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  await db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`INSERT INTO "OutboxEvent" ("id", "type", "payload") VALUES ($1::uuid, $2, $3::jsonb)`, id, type, JSON.stringify(payload));
  });
  return id;
}

const unpublished = async (db: Db) =>
  (await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "OutboxEvent" WHERE "publishedAt" IS NULL`))[0]!.n;

/** A bus that refuses to publish, as Redis does while it is down. */
const unavailableBus = (): EventBus => ({
  ...createMemoryEventBus(),
  publish: async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  },
});

describe.each(backends)('outbox relay on $name', ({ open }) => {
  let db: Db;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db.close();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await db.$executeRawUnsafe(`DELETE FROM "OutboxEvent"`);
  });
  const bus = () => {
    const b = createMemoryEventBus();
    buses.push(b);
    return b;
  };

  it('publishes committed rows in order with their id, type and payload, then marks them published', async () => {
    const b = bus();
    const seen: DomainEvent[] = [];
    await b.consume('courses', ['PaymentSucceeded'], async (e) => void seen.push(e));
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await commitWithEvent(db, 'PaymentSucceeded', { paymentId: `p${i}` }));

    const relay = createOutboxRelay({ db, bus: b });
    expect(await relay.drain()).toBe(3);
    await vi.waitUntil(() => seen.length === 3, { timeout: 10_000, interval: 20 }); // deliveries
    expect(seen.map((e) => e.id)).toEqual(ids);
    expect(seen.map((e) => e.payload.paymentId)).toEqual(['p0', 'p1', 'p2']);
    expect(await unpublished(db)).toBe(0);
    expect(await relay.drain()).toBe(0);
  });

  it('leaves a row unpublished while the bus refuses it, and publishes it once the bus accepts', async () => {
    await commitWithEvent(db, 'PaymentSucceeded', { paymentId: 'p' });
    const errors: unknown[] = [];
    const down = createOutboxRelay({ db, bus: unavailableBus(), onError: (e) => errors.push(e) });
    expect(await down.drain()).toBe(0);
    expect(errors).toHaveLength(1);
    expect(await unpublished(db)).toBe(1);

    const b = bus();
    const seen: DomainEvent[] = [];
    await b.consume('courses', ['PaymentSucceeded'], async (e) => void seen.push(e));
    expect(await createOutboxRelay({ db, bus: b }).drain()).toBe(1);
    await vi.waitUntil(() => seen.length === 1, { timeout: 10_000, interval: 20 }); // delivery
  });

  it('delivers an event committed by a process that crashed before relaying it', async () => {
    // The "crashed" process committed its change and outbox row, and its relay never ran: a
    // stopped relay, as after kill -9, publishes nothing. A new process's relay picks the row up.
    const crashed = createOutboxRelay({ db, bus: bus(), pollIntervalMs: 60_000 });
    await crashed.stop();
    const id = await commitWithEvent(db, 'PaymentSucceeded', { paymentId: 'p' });
    await crashed.notify();
    expect(await unpublished(db)).toBe(1);

    const b = bus();
    const seen: DomainEvent[] = [];
    await b.consume('courses', ['PaymentSucceeded'], async (e) => void seen.push(e));
    const restarted = createOutboxRelay({ db, bus: b, pollIntervalMs: 50 });
    restarted.start();
    await vi.waitUntil(() => seen.length === 1, { timeout: 10_000, interval: 20 }); // delivery after restart
    await restarted.stop();
    expect(seen[0]!.id).toBe(id);
    expect(await unpublished(db)).toBe(0);
  });

  it('publishes each row once when two relays drain concurrently', async () => {
    for (let i = 0; i < 20; i++) await commitWithEvent(db, 'PaymentSucceeded', { i });
    const b = bus();
    const seen: DomainEvent[] = [];
    await b.consume('courses', ['PaymentSucceeded'], async (e) => void seen.push(e));
    const [x, y] = await Promise.all([
      createOutboxRelay({ db, bus: b, batchSize: 5 }).drain(),
      createOutboxRelay({ db, bus: b, batchSize: 5 }).drain(),
    ]);
    expect(x + y).toBe(20);
    await vi.waitUntil(() => seen.length === 20, { timeout: 10_000, interval: 20 }); // deliveries
    expect(new Set(seen.map((e) => e.id)).size).toBe(20);
  });
  it('publishes an acknowledged type again, with the same id, until its answer is recorded', async () => {
    const b = bus();
    const seen: DomainEvent[] = [];
    await b.consume('courses', ['PaymentSucceeded', 'CourseUpdated'], async (e) => void seen.push(e));
    const republished: { id: string; publishCount: number; givenUp: boolean }[] = [];
    const relay = createOutboxRelay({
      db,
      bus: b,
      acknowledgements: { types: ['PaymentSucceeded'], timeoutMs: 50, maxPublishes: 3 },
      onRepublish: (row) => void republished.push(row),
    });
    const awaited = await commitWithEvent(db, 'PaymentSucceeded', { paymentId: 'p' });
    const unanswered = await commitWithEvent(db, 'CourseUpdated', { courseId: 'c' });
    expect(await relay.drain()).toBe(2);
    // Not overdue yet: nothing to publish again.
    expect(await relay.republishUnacknowledged()).toBe(0);

    await new Promise((r) => setTimeout(r, 80));
    // The bus took it, but no answer came (as when Redis lost it): only the awaited type goes again.
    expect(await relay.republishUnacknowledged()).toBe(1);
    expect(await relay.drain()).toBe(1);
    await vi.waitUntil(() => seen.length === 3, { timeout: 10_000, interval: 20 }); // deliveries
    expect(seen.map((e) => e.id)).toEqual([awaited, unanswered, awaited]);
    expect(republished).toEqual([{ id: awaited, type: 'PaymentSucceeded', publishCount: 1, givenUp: false }]);

    expect(await acknowledgeOutboxEvent(db, awaited)).toBe(true);
    expect(await acknowledgeOutboxEvent(db, awaited)).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(await relay.republishUnacknowledged()).toBe(0);
  });

  it('stops publishing a row nobody answers after maxPublishes, and reports it once', async () => {
    const republished: { id: string; publishCount: number; givenUp: boolean }[] = [];
    const relay = createOutboxRelay({
      db,
      bus: bus(),
      pollIntervalMs: 1_000,
      acknowledgements: { types: ['PaymentSucceeded'], timeoutMs: 20, maxPublishes: 2 },
      onRepublish: (row) => void republished.push(row),
    });
    const id = await commitWithEvent(db, 'PaymentSucceeded', { paymentId: 'p' });
    for (let i = 0; i < 4; i++) {
      await relay.drain();
      await new Promise((r) => setTimeout(r, 40));
      await relay.republishUnacknowledged();
    }
    const [row] = await db.$queryRawUnsafe<{ publishCount: number; publishedAt: Date | null }[]>(
      `SELECT "publishCount", "publishedAt" FROM "OutboxEvent" WHERE "id" = $1::uuid`,
      id,
    );
    // Published twice, then marked given up (one past the limit) and reported exactly once.
    expect(row).toMatchObject({ publishCount: 3 });
    expect(row!.publishedAt).not.toBeNull();
    expect(republished).toEqual([
      { id, type: 'PaymentSucceeded', publishCount: 1, givenUp: false },
      { id, type: 'PaymentSucceeded', publishCount: 2, givenUp: true },
    ]);
  });
});

describe.each(backends)('processed events on $name', ({ open }) => {
  let db: Db;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db.close();
  });

  const effects = async (eventId: string) =>
    (await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "Effect" WHERE "eventId" = $1::uuid`, eventId))[0]!.n;
  const applyEffect = (eventId: string) => async (tx: RawSql) => {
    await tx.$executeRawUnsafe(`INSERT INTO "Effect" ("eventId") VALUES ($1::uuid)`, eventId);
  };

  it('applies the effect of an event once however often it is delivered', async () => {
    const event = domainEvent('PaymentSucceeded', {});
    expect(await handleOnce(db, 'courses', event, applyEffect(event.id))).toBe(true);
    expect(await handleOnce(db, 'courses', event, applyEffect(event.id))).toBe(false);
    expect(await effects(event.id)).toBe(1);
  });

  it('applies the effect once when the same event is delivered concurrently', async () => {
    const event = domainEvent('PaymentSucceeded', {});
    const results = await Promise.all(Array.from({ length: 5 }, () => handleOnce(db, 'courses', event, applyEffect(event.id))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await effects(event.id)).toBe(1);
  });

  it('records nothing when the effect fails, so a redelivery applies it', async () => {
    const event = domainEvent('PaymentSucceeded', {});
    await expect(
      handleOnce(db, 'courses', event, async (tx) => {
        await applyEffect(event.id)(tx);
        throw new Error('enrollment failed');
      }),
    ).rejects.toThrow('enrollment failed');
    expect(await effects(event.id)).toBe(0);
    expect(await handleOnce(db, 'courses', event, applyEffect(event.id))).toBe(true);
    expect(await effects(event.id)).toBe(1);
  });

  it('keeps consumers apart: each group records its own processing', async () => {
    const event = domainEvent('PaymentSucceeded', {});
    await db.$transaction(async (tx) => {
      expect(await markEventProcessed(tx, 'courses', event.id)).toBe(true);
      expect(await markEventProcessed(tx, 'analytics', event.id)).toBe(true);
      expect(await markEventProcessed(tx, 'courses', event.id)).toBe(false);
    });
  });
});
