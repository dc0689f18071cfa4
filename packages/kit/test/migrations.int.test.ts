/**
 * The migration runner against a fresh in-memory PGlite and, when TEST_DATABASE_URL names a
 * PostgreSQL server (admin URL), against a throwaway database created there and dropped afterwards.
 * Besides its own behaviour it checks compatibility with Prisma's schema engine (the code behind
 * `prisma migrate deploy`): each accepts what the other recorded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmptyPglite } from '../src/tooling/pglite-template.ts';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, listMigrations, MIGRATE_ADVISORY_LOCK } from '../src/tooling/migrations.ts';
import { loadMigrationList, withSchemaEngine } from '../src/tooling/schema-engine.ts';
import { fromPgClient, fromPglite, type SqlConnection } from '../src/tooling/sql-connection.ts';

interface TestDb {
  conn: SqlConnection;
  /** A second, independent session on the same database (PostgreSQL only). */
  connectAgain?: () => Promise<{ conn: SqlConnection; close(): Promise<void> }>;
  /**
   * Runs Prisma's own schema engine on the same database. Its connections are closed afterwards:
   * the engine never unlocks its advisory lock, it relies on the session ending (as the CLI's does).
   */
  withPrismaEngine<T>(fn: (engine: SchemaEngine) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  open(): Promise<TestDb>;
}

const pgliteBackend: Backend = {
  name: 'PGlite',
  async open() {
    const db = await createEmptyPglite();
    return {
      conn: fromPglite(db),
      withPrismaEngine: (fn) => withSchemaEngine(fn, new PrismaPGlite(db) as unknown as SqlMigrationAwareDriverAdapterFactory),
      close: () => db.close(),
    };
  },
};

function postgresBackend(adminUrl: string): Backend {
  return {
    name: 'PostgreSQL',
    async open() {
      const name = `campus_migtest_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client(adminUrl);
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const clients: pg.Client[] = [];
      const connect = async () => {
        const client = new pg.Client(url.toString());
        await client.connect();
        clients.push(client);
        return client;
      };
      const main = await connect();
      return {
        conn: fromPgClient(main),
        connectAgain: async () => {
          const client = await connect();
          return { conn: fromPgClient(client), close: () => client.end() };
        },
        async withPrismaEngine(fn) {
          const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
          try {
            return await withSchemaEngine(fn, new PrismaPg(pool));
          } finally {
            await pool.end();
          }
        },
        async close() {
          await Promise.allSettled(clients.map((c) => c.end()));
          await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          await admin.end();
        },
      };
    },
  };
}

const backends = [pgliteBackend, ...(process.env.TEST_DATABASE_URL ? [postgresBackend(process.env.TEST_DATABASE_URL)] : [])];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const INIT = `CREATE TABLE "Course" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    CONSTRAINT "Course_pkey" PRIMARY KEY ("id")
);
-- Proves the runner holds Prisma's advisory lock while a script runs. In this database only:
-- pg_locks lists the whole server's, and other tests migrate their own databases meanwhile.
CREATE TABLE "lock_seen" AS
  SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'advisory' AND objid = ${MIGRATE_ADVISORY_LOCK} AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database());
`;
const ADD_COLUMN = `ALTER TABLE "Course" ADD COLUMN "summary" TEXT;\n`;
const ADD_INDEX = `CREATE INDEX "Course_title_idx" ON "Course"("title");\n`;

let dirs: string[] = [];
function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'campus-migrations-'));
  dirs.push(dir);
  writeMigrations(dir, files);
  return dir;
}
function writeMigrations(dir: string, files: Record<string, string>): void {
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const tableNames = async (conn: SqlConnection) =>
  (
    await conn.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
    )
  ).map((row) => row.name);

describe('listMigrations', () => {
  it('lists migration folders in name order with sha256 checksums and skips the lockfile', () => {
    const dir = migrationsDir({ '20250102000000_b': ADD_COLUMN, '20250101000000_a': INIT });
    expect(listMigrations(dir)).toEqual([
      { name: '20250101000000_a', sql: INIT, checksum: sha256(INIT) },
      { name: '20250102000000_b', sql: ADD_COLUMN, checksum: sha256(ADD_COLUMN) },
    ]);
    expect(listMigrations(join(dir, 'missing'))).toEqual([]);
  });

  it('rejects a migration folder without migration.sql', () => {
    const dir = migrationsDir({ '20250101000000_a': INIT });
    mkdirSync(join(dir, '20250102000000_empty'));
    expect(() => listMigrations(dir)).toThrow(/no migration\.sql/);
  });
});

describe.each(backends)('applyMigrations on $name', (backend) => {
  let db: TestDb;
  beforeEach(async () => {
    db = await backend.open();
  });
  afterEach(async () => {
    await db.close();
  });

  it('creates the tables and records each migration the way Prisma does', async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT, '20250102000000_summary': ADD_COLUMN });
    const logs: string[] = [];
    const { applied } = await applyMigrations(db.conn, dir, (m) => logs.push(m));

    expect(applied).toEqual(['20250101000000_init', '20250102000000_summary']);
    expect(await tableNames(db.conn)).toEqual(['Course', '_prisma_migrations', 'lock_seen']);
    expect(await db.conn.query('SELECT n FROM lock_seen')).toEqual([{ n: 1 }]);
    expect(logs.join('\n')).not.toMatch(/advisory locks unavailable/);

    const rows = await db.conn.query<Record<string, unknown>>(
      `SELECT * FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows).toHaveLength(2);
    for (const [row, sql] of [[rows[0]!, INIT], [rows[1]!, ADD_COLUMN]] as const) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(sha256(sql));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.started_at).toBeInstanceOf(Date);
      expect((row.finished_at as Date).getTime()).toBeGreaterThanOrEqual((row.started_at as Date).getTime());
      expect(row).toMatchObject({ logs: null, rolled_back_at: null, applied_steps_count: 1 });
    }
    expect(rows.map((r) => r.migration_name)).toEqual(applied);

    // The lock is released afterwards: a pooled connection must not keep it. Counted in this
    // database only, as lock_seen counts it: other tests migrate their own databases meanwhile.
    const held = await db.conn.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [MIGRATE_ADVISORY_LOCK],
    );
    expect(held).toEqual([]);
  });

  it("creates _prisma_migrations with the schema engine's exact column definitions", async () => {
    await applyMigrations(db.conn, migrationsDir({}));
    const columns = await db.conn.query(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', len: 36, is_nullable: 'NO', column_default: null },
      { column_name: 'checksum', data_type: 'character varying', len: 64, is_nullable: 'NO', column_default: null },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'YES', column_default: null },
      { column_name: 'migration_name', data_type: 'character varying', len: 255, is_nullable: 'NO', column_default: null },
      { column_name: 'logs', data_type: 'text', len: null, is_nullable: 'YES', column_default: null },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'YES', column_default: null },
      { column_name: 'started_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'NO', column_default: 'now()' },
      { column_name: 'applied_steps_count', data_type: 'integer', len: null, is_nullable: 'NO', column_default: '0' },
    ]);
    const pk = await db.conn.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = '_prisma_migrations'::regclass AND contype = 'p'`,
    );
    expect(pk).toEqual([{ conname: '_prisma_migrations_pkey' }]);
  });

  it('is a no-op the second time and applies only what is new', async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT });
    expect((await applyMigrations(db.conn, dir)).applied).toEqual(['20250101000000_init']);
    expect((await applyMigrations(db.conn, dir)).applied).toEqual([]);

    writeMigrations(dir, { '20250102000000_summary': ADD_COLUMN });
    expect((await applyMigrations(db.conn, dir)).applied).toEqual(['20250102000000_summary']);
    expect(await db.conn.query('SELECT count(*)::int AS n FROM _prisma_migrations')).toEqual([{ n: 2 }]);
  });

  it('refuses an applied migration whose file was modified, and applies nothing', async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT });
    await applyMigrations(db.conn, dir);
    writeMigrations(dir, { '20250101000000_init': `${INIT}-- edited\n`, '20250102000000_summary': ADD_COLUMN });

    await expect(applyMigrations(db.conn, dir)).rejects.toThrow(/modified.*20250101000000_init/);
    expect(await db.conn.query('SELECT count(*)::int AS n FROM _prisma_migrations')).toEqual([{ n: 1 }]);
  });

  it('accepts an applied migration checked out with other line endings, as Prisma does', async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT });
    await applyMigrations(db.conn, dir);
    writeMigrations(dir, { '20250101000000_init': INIT.replaceAll('\n', '\r\n') });
    expect((await applyMigrations(db.conn, dir)).applied).toEqual([]);
  });

  it('refuses to continue after a migration recorded as failed', async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT, '20250102000000_summary': ADD_COLUMN });
    await applyMigrations(db.conn, migrationsDir({ '20250101000000_init': INIT }));
    // What `prisma migrate deploy` leaves behind when a script fails half-way.
    await db.conn.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES ($1, $2, $3, $4)`,
      ['00000000-0000-4000-8000-000000000000', sha256(ADD_COLUMN), '20250102000000_summary', 'column exists'],
    );
    await expect(applyMigrations(db.conn, dir)).rejects.toThrow(/failed migrations.*\n.*20250102000000_summary.*column exists/);

    // Marked rolled back (`prisma migrate resolve --rolled-back`), it is applied again.
    await db.conn.query(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE finished_at IS NULL`);
    expect((await applyMigrations(db.conn, dir)).applied).toEqual(['20250102000000_summary']);
  });

  it('rolls a failing migration back completely and records nothing', async () => {
    const dir = migrationsDir({
      '20250101000000_init': INIT,
      '20250102000000_broken': `CREATE TABLE "Half" ("id" INT);\nALTER TABLE "Missing" ADD COLUMN "x" INT;\n`,
      '20250103000000_index': ADD_INDEX,
    });
    await expect(applyMigrations(db.conn, dir)).rejects.toThrow(/20250102000000_broken failed and was rolled back.*"Missing"/);
    expect(await tableNames(db.conn)).toEqual(['Course', '_prisma_migrations', 'lock_seen']);
    expect(await db.conn.query('SELECT migration_name FROM _prisma_migrations')).toEqual([
      { migration_name: '20250101000000_init' },
    ]);
    // The connection is usable again and a fixed script goes through on the next run.
    writeMigrations(dir, { '20250102000000_broken': `CREATE TABLE "Half" ("id" INT);\n` });
    expect((await applyMigrations(db.conn, dir)).applied).toEqual(['20250102000000_broken', '20250103000000_index']);
  });

  it('refuses a non-empty schema that has no _prisma_migrations table', async () => {
    await db.conn.exec(`CREATE TABLE "Stranger" ("id" INT)`);
    await expect(applyMigrations(db.conn, migrationsDir({ '20250101000000_init': INIT }))).rejects.toThrow(
      /not empty \(Stranger\)/,
    );
  });

  it('refuses a migrations folder locked to another provider', async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT });
    writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "sqlite"\n');
    await expect(applyMigrations(db.conn, dir)).rejects.toThrow(/provider "sqlite"/);
  });

  it("agrees with Prisma's schema engine: it finds nothing left to apply and no edited or failed migration", async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT, '20250102000000_summary': ADD_COLUMN });
    await applyMigrations(db.conn, dir);
    const migrationsList = loadMigrationList(dir);
    const filters = { externalTables: [], externalEnums: [] };
    await db.withPrismaEngine(async (engine) => {
      expect(await engine.applyMigrations({ migrationsList, filters })).toEqual({ appliedMigrationNames: [] });
      const diagnosis = await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters });
      expect(diagnosis).toMatchObject({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
    });
  });

  it("accepts what Prisma's schema engine applied (`prisma migrate deploy`) and continues after it", async () => {
    const dir = migrationsDir({ '20250101000000_init': INIT });
    const filters = { externalTables: [], externalEnums: [] };
    await db.withPrismaEngine(async (engine) => {
      const out = await engine.applyMigrations({ migrationsList: loadMigrationList(dir), filters });
      expect(out.appliedMigrationNames).toEqual(['20250101000000_init']);
    });

    writeMigrations(dir, { '20250102000000_summary': ADD_COLUMN });
    expect((await applyMigrations(db.conn, dir)).applied).toEqual(['20250102000000_summary']);
  });

  it.runIf(backend.name === 'PostgreSQL')('waits while another session (e.g. `prisma migrate deploy`) holds the lock', async () => {
    const holder = await db.connectAgain!();
    try {
      await holder.conn.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATE_ADVISORY_LOCK]);
      const logs: string[] = [];
      const run = applyMigrations(db.conn, migrationsDir({ '20250101000000_init': INIT }), (m) => logs.push(m));
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(logs).toContain('another process is migrating this database; waiting for its lock');
      expect(await holder.conn.query(`SELECT to_regclass('"Course"') AS t`)).toEqual([{ t: null }]);

      await holder.conn.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATE_ADVISORY_LOCK]);
      expect((await run).applied).toEqual(['20250101000000_init']);
    } finally {
      await holder.close();
    }
  });

  it.runIf(backend.name === 'PostgreSQL')('lets concurrent starts apply each migration exactly once', async () => {
    const dir = migrationsDir({
      '20250101000000_init': INIT,
      '20250102000000_summary': `${ADD_COLUMN}SELECT pg_sleep(0.3);\n`,
      '20250103000000_index': ADD_INDEX,
    });
    const others = await Promise.all([db.connectAgain!(), db.connectAgain!()]);
    try {
      const results = await Promise.all([db.conn, ...others.map((o) => o.conn)].map((conn) => applyMigrations(conn, dir)));
      expect(results.flatMap((r) => r.applied).sort()).toEqual([
        '20250101000000_init',
        '20250102000000_summary',
        '20250103000000_index',
      ]);
      expect(await db.conn.query('SELECT count(*)::int AS n FROM _prisma_migrations')).toEqual([{ n: 3 }]);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });
});
