/**
 * `npm run audit:verify` (scripts/audit-verify.ts), run as its own process the way npm runs it,
 * against a users database on disk (the embedded default's PGlite layout, USERS_DATA_DIR): OK with
 * the count while the chain holds, exit 1 naming the first entry once a row was edited behind the
 * append-only trigger's back (docs/privacy.md).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '@campus/kit/subgraph';
import { appendAudit, usersAudit } from '@campus/users/audit-log';
import { PrismaClient } from '@campus/users/generated/prisma/client';
import { MIGRATIONS_DIR } from '@campus/users/service';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

async function auditVerify(dataDir: string): Promise<{ code: number; stdout: string }> {
  const { USERS_DATABASE_URL: _url, ...inherited } = process.env;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--conditions=source', 'scripts/audit-verify.ts'], {
      cwd: root,
      env: { ...inherited, USERS_DATA_DIR: dataDir },
      timeout: 60_000,
    });
    return { code: 0, stdout };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '' };
  }
}

describe('npm run audit:verify', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'campus-audit-verify-'));
  let db: Database;
  let prisma: PrismaClient;
  /** Opens the database, runs `fn`, closes it again: PGlite's files have one user at a time. */
  async function withDatabase(fn: (prisma: PrismaClient) => Promise<void>) {
    db = await openDatabase({ dataDir: join(dataDir, 'pglite'), migrationsDir: MIGRATIONS_DIR });
    prisma = new PrismaClient({ adapter: db.adapter });
    try {
      await fn(prisma);
    } finally {
      await prisma.$disconnect();
      await db.close();
    }
  }

  beforeAll(async () => {
    await withDatabase(async (p) => {
      await db.migrate();
      for (const action of ['users.role.set', 'users.sessions.revoke', 'users.account-deletion.request']) {
        await p.$transaction((tx) => appendAudit(tx, usersAudit(null, action, null, { n: action.length })));
      }
    });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('says the chain holds, with the count', async () => {
    const run = await auditVerify(dataDir);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toContain('OK: 3 entries');
  });

  it('exits 1 naming the first entry of a row edited behind the trigger', async () => {
    await withDatabase(async (p) => {
      await p.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`ALTER TABLE "AuditEntry" DISABLE TRIGGER "AuditEntry_append_only"`);
        await tx.$executeRawUnsafe(`UPDATE "AuditEntry" SET "action" = 'users.nothing-happened' WHERE "seq" = 2`);
        await tx.$executeRawUnsafe(`ALTER TABLE "AuditEntry" ENABLE TRIGGER "AuditEntry_append_only"`);
      });
    });
    const run = await auditVerify(dataDir);
    expect(run.stdout).toContain('BROKEN at seq 2');
    expect(run.code).toBe(1);
  });
});
