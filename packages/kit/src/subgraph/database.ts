/**
 * Opens one service's database (docs/migrations.md): PostgreSQL through @prisma/adapter-pg
 * when a URL is given, otherwise an embedded PGlite kept in `dataDir` (or in memory when there is no
 * dataDir, as tests do). Either way the service gets a Prisma driver-adapter factory and a way to
 * apply its committed migrations.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { errorReason } from '../core/error-reason.ts';
import { endpointOf, StartupError } from '../core/startup-error.ts';
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
  /** Runs `fn` on one raw connection (migrations, seeds). */
  withConnection<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

/** How long a new connection may take before its query fails (a host that drops packets). */
const CONNECT_TIMEOUT_MS = 10_000;

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  // Loaded here, not with this module: the embedded default runs on PGlite and never needs them.
  const [{ default: pg }, { PrismaPg }] = await Promise.all([import('pg'), import('@prisma/adapter-pg')]);
  // Bounded: without a timeout a connection to a host that drops packets waits for the kernel
  // (minutes), and so would the start, every query and every readiness probe behind it.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A pool error (e.g. the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', (e) => options.log?.(`postgres pool error: ${e.message}`));
  // Opening answers whether the database can be reached at all, as a StartupError that names it
  // (never its password), instead of the first caller's stack trace into the driver.
  try {
    (await pool.connect()).release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new StartupError(`database ${endpointOf(url)} is unreachable: ${errorReason(e)}`);
  }
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
