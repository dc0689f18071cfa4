/**
 * Applies committed Prisma migrations (`<dir>/<name>/migration.sql`) without the Prisma CLI, which
 * cannot run here (docs/migrations.md).
 *
 * Everything it writes is what Prisma's schema engine writes, so `prisma migrate deploy` and this
 * runner can take turns on the same database:
 *   - the `_prisma_migrations` table, created with the engine's own DDL for PostgreSQL;
 *   - one row per applied migration: random UUID id, sha256 hex checksum of migration.sql,
 *     started_at/finished_at, applied_steps_count = 1, logs NULL;
 *   - the same advisory lock key (72707369), so this runner and `migrate deploy` exclude each other.
 * It is stricter than `migrate deploy` in one way: a migration edited after it was applied is
 * refused (deploy only warns about that in `migrate dev`), because the schema would silently drift.
 * And it runs each script plus its bookkeeping row in one transaction: a failed migration leaves
 * nothing behind and is simply retried on the next start, instead of being recorded as failed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlConnection } from './sql-connection.ts';

export interface MigrationFile {
  /** Folder name, e.g. `20250101120000_init`; also the `migration_name` recorded in the database. */
  name: string;
  sql: string;
  checksum: string;
}

/** Prisma's key for `pg_advisory_lock` ("it should not be used by any other tool"). */
export const MIGRATE_ADVISORY_LOCK = 72707369;

/** Verbatim from prisma-engines (sql-schema-connector, flavour/postgres.rs, create_migrations_table). */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

const LOCK_WAIT_MS = 5 * 60_000;
const LOCK_POLL_MS = 250;

interface MigrationRow {
  migration_name: string;
  checksum: string;
  started_at: Date | string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
  logs: string | null;
}

/** Sha256 hex of the script, as the schema engine computes it (checksum.rs: compute_checksum). */
export function migrationChecksum(script: string | Uint8Array): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Prisma's tolerant comparison (checksum.rs: script_matches_checksum): a checkout with other line
 * endings still matches, and so do checksums from old engines that did not zero-pad the hex bytes.
 */
export function checksumMatches(script: string, recorded: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    const rendered =
      recorded.length !== 64 && recorded.length > 0
        ? [...digest].map((byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return rendered === recorded;
  });
}

/**
 * The migrations in `dir`, in the order they apply (folder names sort by their timestamp prefix).
 * A missing directory means no migrations; a folder without migration.sql is an error, as in Prisma.
 */
export function listMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => {
      const file = join(dir, name, 'migration.sql');
      if (!existsSync(file)) throw new Error(`Migration folder ${join(dir, name)} has no migration.sql`);
      const bytes = readFileSync(file);
      return { name, sql: bytes.toString('utf8'), checksum: migrationChecksum(bytes) };
    });
}

export async function applyMigrations(
  conn: SqlConnection,
  migrationsDir: string,
  log: (msg: string) => void = () => {},
): Promise<{ applied: string[] }> {
  assertPostgresLockfile(migrationsDir);
  const migrations = listMigrations(migrationsDir);
  const locked = await acquireLock(conn, log);
  try {
    await ensureMigrationsTable(conn);
    const rows = await conn.query<MigrationRow>(
      `SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs
         FROM _prisma_migrations ORDER BY started_at`,
    );
    refuseFailed(rows);
    const live = rows.filter((row) => row.rolled_back_at === null);
    refuseEdited(live, migrations);
    const known = new Set(migrations.map((m) => m.name));
    for (const row of live) {
      if (!known.has(row.migration_name)) {
        log(`migration ${row.migration_name} is applied in the database but missing from ${migrationsDir}`);
      }
    }

    const appliedNames = new Set(live.map((row) => row.migration_name));
    const applied: string[] = [];
    for (const migration of migrations.filter((m) => !appliedNames.has(m.name))) {
      log(`applying migration ${migration.name}`);
      await applyOne(conn, migration);
      applied.push(migration.name);
    }
    if (applied.length > 0) log(`applied ${applied.length} migration(s)`);
    return { applied };
  } finally {
    // Pooled connections outlive this call: a lock left behind would block every later migrate.
    // If the session is broken the lock died with it; don't hide the error that got us here.
    if (locked) {
      await conn
        .query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATE_ADVISORY_LOCK])
        .catch((error: Error) => log(`could not release the migration lock: ${error.message}`));
    }
  }
}

async function applyOne(conn: SqlConnection, migration: MigrationFile): Promise<void> {
  await conn.exec('BEGIN');
  try {
    await conn.exec(migration.sql);
    // started_at = now() is the transaction start (before the script); finished_at the wall clock.
    await conn.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await conn.exec('COMMIT');
  } catch (error) {
    await conn.exec('ROLLBACK').catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
  }
}

/**
 * Waits for Prisma's advisory lock so concurrent starts (several replicas, or `migrate deploy`)
 * apply each migration once. Returns false when the database has no advisory locks at all
 * (e.g. CockroachDB, which Prisma also runs without the lock).
 */
async function acquireLock(conn: SqlConnection, log: (msg: string) => void): Promise<boolean> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    let rows: { locked: boolean }[];
    try {
      rows = await conn.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
        MIGRATE_ADVISORY_LOCK,
      ]);
    } catch (error) {
      log(`advisory locks unavailable, migrating without the lock: ${(error as Error).message}`);
      return false;
    }
    if (rows[0]?.locked) return true;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${LOCK_WAIT_MS / 1000}s waiting for the migration lock (pg_advisory_lock(${MIGRATE_ADVISORY_LOCK})); another migrator holds it`);
    }
    if (!announced) log('another process is migrating this database; waiting for its lock');
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** Like Prisma: create the table in an empty schema, refuse a non-empty schema that lacks it. */
async function ensureMigrationsTable(conn: SqlConnection): Promise<void> {
  const tables = await conn.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname = current_schema()`,
  );
  if (tables.some((t) => t.name === '_prisma_migrations')) return;
  if (tables.length > 0) {
    throw new Error(
      `The database schema is not empty (${tables.map((t) => t.name).join(', ')}) but has no _prisma_migrations table. ` +
        'Refusing to apply migrations over an unknown schema; baseline it first (https://pris.ly/d/migrate-baseline).',
    );
  }
  await conn.exec(CREATE_MIGRATIONS_TABLE);
}

function refuseFailed(rows: MigrationRow[]): void {
  const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed.length === 0) return;
  const details = failed
    .map((row) => `  ${row.migration_name} (started ${new Date(row.started_at).toISOString()})${row.logs?.trim() ? `: ${row.logs.trim()}` : ''}`)
    .join('\n');
  throw new Error(
    `Found failed migrations in _prisma_migrations:\n${details}\n` +
      'Repair the database by hand, then mark each one rolled back (what `prisma migrate resolve --rolled-back` does): ' +
      "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '<name>' AND finished_at IS NULL;",
  );
}

function refuseEdited(live: MigrationRow[], migrations: MigrationFile[]): void {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const edited = live.filter((row) => {
    const file = byName.get(row.migration_name);
    return row.finished_at !== null && file !== undefined && !checksumMatches(file.sql, row.checksum);
  });
  if (edited.length === 0) return;
  throw new Error(
    `Applied migrations were modified afterwards (checksum differs from _prisma_migrations): ${edited.map((r) => r.migration_name).join(', ')}. ` +
      'Restore them from version control and put further changes in a new migration (npm run db:migration:create).',
  );
}

/** Prisma refuses a migrations folder locked to another provider; so do we. */
function assertPostgresLockfile(dir: string): void {
  const lockfile = join(dir, 'migration_lock.toml');
  if (!existsSync(lockfile)) return;
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockfile, 'utf8'))?.[1];
  if (provider !== undefined && provider !== 'postgresql') {
    throw new Error(`${lockfile} is for provider "${provider}", but this database is PostgreSQL`);
  }
}
