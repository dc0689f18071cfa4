/**
 * npm run db:migration:create -- <service> <name>
 *
 * The offline stand-in for `prisma migrate dev --create-only`: asks Prisma's WASM schema engine what
 * SQL takes the committed migrations to the current subgraphs/<service>/prisma/schema.prisma and writes it as
 * subgraphs/<service>/prisma/migrations/<UTC YYYYMMDDHHMMSS>_<name>/migration.sql, plus migration_lock.toml
 * when missing. Review the SQL before committing; see docs/migrations.md.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listMigrations } from '@campus/kit/tooling';
import { diffMigrationsToSchema, MIGRATION_LOCK_TOML } from '@campus/kit/tooling';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [service, name] = process.argv.slice(2);

function fail(message: string): never {
  console.error(`db:migration:create: ${message}`);
  process.exit(1);
}

if (!service || !name) fail('usage: npm run db:migration:create -- <service> <name>   e.g. users add_avatar');
// Prisma's own names are snake_case words; anything else would be awkward in a folder name.
if (!/^[a-z0-9][a-z0-9_]*$/.test(name)) fail(`migration name "${name}" must be lower-case letters, digits and underscores`);

const serviceDir = join(root, 'subgraphs', service, 'prisma');
const schemaPath = join(serviceDir, 'schema.prisma');
const migrationsDir = join(serviceDir, 'migrations');
if (!existsSync(schemaPath)) fail(`no schema at ${relative(root, schemaPath)}`);

/** Prisma's migration timestamp: UTC, to the second. */
function timestamp(now = new Date()): string {
  return now.toISOString().replace(/\D/g, '').slice(0, 14);
}

const folder = `${timestamp()}_${name}`;
const last = listMigrations(migrationsDir).at(-1)?.name;
if (last !== undefined && last >= folder) fail(`${folder} would not sort after the latest migration ${last}`);

try {
  const sql = await diffMigrationsToSchema({ schemaPath, migrationsDir });
  if (sql.trim() === '') fail(`nothing to do: the migrations already produce ${relative(root, schemaPath)}`);

  mkdirSync(join(migrationsDir, folder), { recursive: true });
  writeFileSync(join(migrationsDir, folder, 'migration.sql'), sql);
  const lockfile = join(migrationsDir, 'migration_lock.toml');
  if (!existsSync(lockfile)) writeFileSync(lockfile, MIGRATION_LOCK_TOML);

  console.log(`created ${relative(root, join(migrationsDir, folder, 'migration.sql'))}\n\n${sql}`);
} catch (e) {
  fail((e as Error).message);
}
