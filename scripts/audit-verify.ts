/**
 * npm run audit:verify
 *     recomputes the audit log's hash chain (docs/privacy.md) and prints `OK: <n> entries`, or the
 *     first entry that does not hold (`BROKEN at seq <n>: <why>`) and exits 1.
 *
 * Reads the users database as the service does: USERS_DATABASE_URL, or else the embedded default's
 * PGlite (USERS_DATA_DIR, default .data/users, as `npm start` keeps it; stop `npm start` first:
 * PGlite's files have one user at a time). It only reads: nothing is migrated or written. The check
 * itself is the users service's `verifyAuditChain` (subgraphs/users/src/audit-log.ts), the one the
 * tests run.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errorReason } from '@campus/kit/core';
import { openDatabase } from '@campus/kit/subgraph';
import { verifyAuditChain } from '@campus/users/audit-log';
import { PrismaClient } from '@campus/users/generated/prisma/client';
import { MIGRATIONS_DIR } from '@campus/users/service';

function fail(message: string): never {
  console.error(`audit:verify: ${message}`);
  process.exit(1);
}

const url = process.env.USERS_DATABASE_URL || undefined;
const dataDir = resolve(process.env.USERS_DATA_DIR || join(import.meta.dirname, '..', '.data', 'users'));
const pgliteDir = join(dataDir, 'pglite');
if (!url && !existsSync(pgliteDir)) fail(`USERS_DATABASE_URL is not set and there is no embedded database at ${pgliteDir} (run \`npm start\` once, or set USERS_DATABASE_URL)`);

let db;
try {
  db = await openDatabase({ url, dataDir: url ? undefined : pgliteDir, migrationsDir: MIGRATIONS_DIR });
} catch (e) {
  fail(`cannot open the users database: ${errorReason(e)}`);
}
const prisma = new PrismaClient({ adapter: db.adapter });
let exitCode = 0;
try {
  const verdict = await verifyAuditChain(prisma);
  if (verdict.ok) {
    console.log(`OK: ${verdict.count} entries, the chain holds`);
  } else {
    console.log(`BROKEN at seq ${verdict.brokenSeq}: ${verdict.reason} (${verdict.count} entries before it hold)`);
    exitCode = 1;
  }
} catch (e) {
  console.error(`audit:verify: ${errorReason(e)}`);
  exitCode = 1;
} finally {
  await prisma.$disconnect();
  await db.close();
}
// Set after closing: PGlite's runtime sets process.exitCode to its own status (0) when it shuts down.
process.exitCode = exitCode;
