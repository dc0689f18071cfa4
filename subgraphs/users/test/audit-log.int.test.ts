/**
 * The audit log (src/audit-log.ts, docs/privacy.md): users' own entries written with their action,
 * other services' entries taken from AuditRecorded once, one linear chain under concurrent appends,
 * no edits through SQL, and an edit made behind the trigger's back found by the verification
 * `npm run audit:verify` runs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@campus/test-kit';
import { appendAudit, canonicalJson, verifyAuditChain } from '../src/audit-log.ts';
import { startUsers, type Account, type UsersHarness } from './harness.ts';

describe('audit log', () => {
  let users: UsersHarness;
  let admin: Account;
  beforeAll(async () => {
    users = await startUsers({ env: { LOGIN_MAX_FAILURES: '3' } });
    admin = await users.account('auditor', 'ADMIN');
  });
  afterAll(() => users?.close());

  const entriesFor = (targetId: string) => users.service.prisma.auditEntry.findMany({ where: { targetId }, orderBy: { seq: 'asc' } });

  it('records a role change and a revocation with their actor, target and request, in the chain', async () => {
    const student = await users.signUp('audited');
    const r = await users.request(`mutation($u: ID!) { setUserRole(input: { userId: $u, role: INSTRUCTOR }) { user { role } } revokeSessions(input: { userId: $u }) { revokedSessionCount } }`, {
      token: admin.token,
      variables: { u: student.id },
    });
    expect(r.errors).toBeUndefined();
    const entries = await entriesFor(student.id);
    expect(entries.map((e) => e.action)).toEqual(['users.role.change', 'users.sessions.revoke']);
    expect(entries[0]).toMatchObject({ service: 'users', actorId: admin.id, details: { from: 'STUDENT', to: 'INSTRUCTOR', sessionsEnded: 1 } });
    expect(entries[0]!.requestId).toBeTruthy();
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(await verifyAuditChain(users.service.prisma)).toMatchObject({ ok: true });
  });

  it('lists entries newest first for admins only, filtered and paged', async () => {
    const student = await users.signUp('listed');
    for (const role of ['INSTRUCTOR', 'STUDENT', 'INSTRUCTOR']) {
      await users.request(`mutation($u: ID!, $r: Role!) { setUserRole(input: { userId: $u, role: $r }) { user { id } } }`, { token: admin.token, variables: { u: student.id, r: role } });
    }
    const q = `query($f: AuditLogFilter, $after: String) { auditLog(first: 2, after: $after, filter: $f) { totalCount pageInfo { hasNextPage endCursor } edges { node { id seq action actorId targetId details at } } } }`;
    const first = await users.request(q, { token: admin.token, variables: { f: { targetId: student.id, action: 'users.role.change' } } });
    expect(first.errors).toBeUndefined();
    expect(first.data.auditLog.totalCount).toBe(3);
    const details = first.data.auditLog.edges.map((e: any) => JSON.parse(e.node.details).to);
    expect(details).toEqual(['INSTRUCTOR', 'STUDENT']);
    expect(Number(first.data.auditLog.edges[0].node.seq)).toBeGreaterThan(Number(first.data.auditLog.edges[1].node.seq));
    const next = await users.request(q, { token: admin.token, variables: { f: { targetId: student.id }, after: first.data.auditLog.pageInfo.endCursor } });
    expect(next.data.auditLog.edges.map((e: any) => JSON.parse(e.node.details).to)).toEqual(['INSTRUCTOR']);

    // The role changes ended the student's sessions: another student asks.
    const byStudent = await users.request(q, { token: (await users.signUp('nosy')).token });
    expect(byStudent.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(byStudent.data).toBeNull();
    const anonymous = await users.request(q);
    expect(anonymous.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
  });

  it('records a failed-login lockout without the email or address', async () => {
    const victim = await users.signUp('locked-out');
    for (let i = 0; i < 3; i++) {
      await users.request(`mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }`, { variables: { i: { email: victim.email, password: 'wrong-password' } } });
    }
    const [lockout] = await entriesFor(victim.id);
    expect(lockout).toMatchObject({ action: 'users.login.lockout', actorId: null, details: { counters: 'account' } });
    expect(JSON.stringify(lockout!.details)).not.toContain(victim.email);
  });

  it("appends another service's AuditRecorded once, however often it is delivered", async () => {
    const targetId = randomUUID();
    const payload = { at: new Date().toISOString(), service: 'payments', actorId: admin.id, action: 'payments.refund', targetId, requestId: 'req-1', details: { amount: 4900 } };
    const id = await users.publish('AuditRecorded', payload);
    await users.publish('AuditRecorded', payload, id);
    await users.publish('AuditRecorded', payload, id);
    await waitFor(async () => (await entriesFor(targetId)).length === 1, 'the entry');
    // The handler of each delivery has run once it shows in the relay-free bus; give the duplicates their turn.
    await users.publish('AuditRecorded', { ...payload, targetId: randomUUID() });
    await waitFor(async () => (await users.service.prisma.auditEntry.count({ where: { action: 'payments.refund' } })) === 2, 'the marker entry');
    expect(await entriesFor(targetId)).toHaveLength(1);
    expect((await entriesFor(targetId))[0]).toMatchObject({ id, service: 'payments', details: { amount: 4900 } });
  });

  it('keeps one linear chain under concurrent appends', async () => {
    const prisma = users.service.prisma;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => prisma.$transaction((tx) => appendAudit(tx, { service: 'users', actorId: null, action: 'test.concurrent', targetId: String(i) }))),
    );
    const verdict = await verifyAuditChain(prisma);
    expect(verdict.ok).toBe(true);
    const count = await prisma.auditEntry.count();
    expect(verdict).toMatchObject({ count });
    const max = await prisma.auditEntry.aggregate({ _max: { seq: true } });
    expect(max._max.seq).toBe(BigInt(count));
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const prisma = users.service.prisma;
    await expect(prisma.$executeRawUnsafe(`UPDATE "AuditEntry" SET "action" = 'x' WHERE "seq" = 1`)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "AuditEntry" WHERE "seq" = 1`)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`TRUNCATE "AuditEntry"`)).rejects.toThrow(/append-only/);
  });

  it('finds an entry edited behind the trigger (as a database superuser could) at its seq', async () => {
    const prisma = users.service.prisma;
    const target = await prisma.auditEntry.findFirstOrThrow({ where: { action: 'users.role.change' }, orderBy: { seq: 'asc' } });
    await prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`ALTER TABLE "AuditEntry" DISABLE TRIGGER "AuditEntry_append_only"`);
      await tx.$executeRawUnsafe(`UPDATE "AuditEntry" SET "actorId" = NULL WHERE "id" = $1::uuid`, target.id);
      await tx.$executeRawUnsafe(`ALTER TABLE "AuditEntry" ENABLE TRIGGER "AuditEntry_append_only"`);
    });
    expect(await verifyAuditChain(prisma)).toMatchObject({ ok: false, brokenSeq: target.seq });
  });
});

describe('canonical serialization', () => {
  it('is the same whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
    expect(canonicalJson({ a: undefined, b: 'x' })).toBe('{"b":"x"}');
  });
});
