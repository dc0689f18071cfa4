/**
 * Opens one service's database (docs/migrations.md): PostgreSQL through @prisma/adapter-pg
 * when a URL is given, otherwise an embedded PGlite kept in `dataDir` (or in memory when there is no
 * dataDir, as tests do). Either way the service gets a Prisma driver-adapter factory and a way to
 * apply its committed migrations.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { applyMigrations } from '../tooling/migrations.ts';
import { createEmptyPglite, openPgliteDir } from '../tooling/pglite-template.ts';
import { fromPgClient, fromPglite, type SqlConnection } from '../tooling/sql-connection.ts';

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent the embedded PGlite is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files; absent means in memory. */
  dataDir?: string | undefined;
  migrationsDir: string;
  log?: (message: string) => void;
}

export interface Database {
  kind: 'postgres' | 'pglite';
  adapter: SqlMigrationAwareDriverAdapterFactory;
  /** Applies committed migrations not yet applied; returns their names. */
  migrate(): Promise<string[]>;
  /** Runs `fn` on one raw connection (migrations, seeds, health checks). */
  withConnection<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // A pool error (e.g. the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', (e) => options.log?.(`postgres pool error: ${e.message}`));
  const withConnection = async <T>(fn: (conn: SqlConnection) => Promise<T>) => {
    const client = await pool.connect();
    try {
      return await fn(fromPgClient(client));
    } finally {
      client.release();
    }
  };
  return {
    kind: 'postgres',
    adapter: new PrismaPg(pool),
    withConnection,
    migrate: () => withConnection(async (conn) => (await applyMigrations(conn, options.migrationsDir, options.log)).applied),
    close: () => pool.end(),
  };
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = options.dataDir ? await openPgliteDir(options.dataDir) : await createEmptyPglite();
  const conn = fromPglite(db);
  return {
    kind: 'pglite',
    adapter: new PrismaPGlite(db),
    withConnection: (fn) => fn(conn),
    migrate: async () => (await applyMigrations(conn, options.migrationsDir, options.log)).applied,
    close: () => db.close(),
  };
}

/**
 * A service's own database as its config describes it (PostgreSQL URL, or PGlite under
 * `<dataDir>/pglite`, or in memory), with every committed migration applied.
 */
export async function openServiceDatabase(
  config: { databaseUrl: string | undefined; dataDir: string | undefined },
  migrationsDir: string,
  logger: { info(message: string): void },
): Promise<Database> {
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir && join(config.dataDir, 'pglite'),
    migrationsDir,
    log: (m) => logger.info(m),
  });
  try {
    await db.migrate();
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
