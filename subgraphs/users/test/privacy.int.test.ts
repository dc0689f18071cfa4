/**
 * Users' side of data exports and account deletion (src/data-export.ts, src/account-deletion.ts,
 * src/erasure.ts), with the test playing courses and payments on the bus: the requests users
 * publishes, the answers it waits for, every refusal with its code and nothing written, and the
 * erasure started once and completed once. The whole saga through the router, with the real
 * participants, is packages/stack/test/privacy/.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@campus/test-kit';
import type { DomainEvent } from '@campus/kit/events';
import { cancelAccountDeletion } from '../src/account-deletion.ts';
import { verifyAuditChain } from '../src/audit-log.ts';
import { startDueErasure } from '../src/erasure.ts';
import { startUsers, type Account, type UsersHarness } from './harness.ts';

const EXPORT = `mutation($u: ID) { requestDataExport(userId: $u) { export { id status requestedAt document } } }`;
const READ_EXPORT = `query($id: ID!) { dataExport(id: $id) { id status readyAt expiresAt document } }`;
const DELETE = `mutation($p: String!) { requestAccountDeletion(input: { password: $p }) { deletion { id status scheduledFor } } }`;
const CANCEL = `mutation($u: ID) { cancelAccountDeletion(userId: $u) { deletion { id status } } }`;

describe('privacy, users side', () => {
  let users: UsersHarness;
  let admin: Account;
  const published: DomainEvent[] = [];
  beforeAll(async () => {
    // A cool-off of three seconds (time for the tests that cancel); the poller runs every 50 ms (harness).
    users = await startUsers({ env: { ACCOUNT_DELETION_COOL_OFF_SECONDS: '3', DATA_EXPORT_TTL_SECONDS: '2', LOGIN_MAX_FAILURES: '3' } });
    admin = await users.account('privacy-admin', 'ADMIN');
    await users.bus.consume('test-participants', ['DataExportRequested', 'AccountErasureRequested'], async (e) => void published.push(e));
  });
  afterAll(() => users?.close());

  const requestOf = (type: string, key: string, id: string) => waitFor(() => published.find((e) => e.type === type && e.payload[key] === id), `${type} for ${id}`);
  const auditActions = async (targetId: string) => (await users.service.prisma.auditEntry.findMany({ where: { targetId }, orderBy: { seq: 'asc' } })).map((e) => e.action);

  describe('data export', () => {
    it('asks the participants, keeps the first part of each, and is READY with all three parts', async () => {
      const me = await users.signUp('exporter');
      const r = await users.request(EXPORT, { token: me.token });
      expect(r.errors).toBeUndefined();
      const { id, status } = r.data.requestDataExport.export;
      expect(status).toBe('PENDING');
      const request = await requestOf('DataExportRequested', 'exportId', id);
      expect(request.payload).toEqual({ exportId: id, userId: me.id });

      const part = (service: string, value: unknown) => users.publish('DataExportPartReady', { acknowledges: request.id, exportId: id, userId: me.id, service, part: { value } });
      await part('courses', 'first');
      await part('courses', 'second');
      expect((await users.request(READ_EXPORT, { token: me.token, variables: { id } })).data.dataExport.status).toBe('PENDING');
      await part('payments', 'paid');
      const ready = await waitFor(async () => {
        const x = (await users.request(READ_EXPORT, { token: me.token, variables: { id } })).data.dataExport;
        return x.status === 'READY' && x;
      }, 'the export READY');
      const document = JSON.parse(ready.document);
      expect(document.users.profile).toMatchObject({ id: me.id, email: me.email });
      expect(document.users.sessions.length).toBe(1);
      expect(ready.document).not.toMatch(/passwordHash|tokenHash|argon2/);
      expect(document.courses).toEqual({ value: 'first' });
      expect(document.payments).toEqual({ value: 'paid' });
      expect(new Date(ready.expiresAt).getTime() - new Date(ready.readyAt).getTime()).toBe(2_000);
      const row = await users.service.prisma.outboxEvent.findUniqueOrThrow({ where: { id: request.id } });
      expect(row.acknowledgedAt).not.toBeNull();
      expect(await auditActions(me.id)).toEqual(['users.data-export.request', 'users.data-export.ready']);

      // Past its time: EXPIRED and purged.
      await waitFor(async () => (await users.service.prisma.dataExport.findUniqueOrThrow({ where: { id } })).status === 'EXPIRED', 'the export purged', 10_000);
      const expired = (await users.request(READ_EXPORT, { token: me.token, variables: { id } })).data.dataExport;
      expect(expired).toMatchObject({ status: 'EXPIRED', document: null });
    });

    it("is FORBIDDEN for a non-admin naming another user, writing nothing; admins may, and others see null", async () => {
      const me = await users.signUp('curious');
      const other = await users.signUp('other');
      const before = await users.service.prisma.dataExport.count();
      const refused = await users.request(EXPORT, { token: me.token, variables: { u: other.id } });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await users.service.prisma.dataExport.count()).toBe(before);
      expect(await users.service.prisma.outboxEvent.count({ where: { type: 'DataExportRequested', payload: { path: ['userId'], equals: other.id } } })).toBe(0);

      const byAdmin = await users.request(EXPORT, { token: admin.token, variables: { u: other.id } });
      expect(byAdmin.errors).toBeUndefined();
      const id = byAdmin.data.requestDataExport.export.id;
      expect((await users.request(READ_EXPORT, { token: other.token, variables: { id } })).data.dataExport.id).toBe(id);
      const nosy = await users.request(READ_EXPORT, { token: me.token, variables: { id } });
      expect(nosy.errors).toBeUndefined();
      expect(nosy.data.dataExport).toBeNull();
      expect((await users.request(READ_EXPORT, { token: me.token, variables: { id: randomUUID() } })).data.dataExport).toBeNull();
    });
  });

  describe('account deletion', () => {
    it('refuses a wrong password (BAD_USER_INPUT, nothing written), counted by the login throttle', async () => {
      const me = await users.signUp('forgetful');
      for (let i = 0; i < 2; i++) {
        const r = await users.request(DELETE, { token: me.token, variables: { p: 'not-my-password' } });
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
      }
      expect(await users.service.prisma.accountDeletion.count({ where: { userId: me.id } })).toBe(0);
      // The third failure locks the account's counter, as three failed logins would.
      await users.request(DELETE, { token: me.token, variables: { p: 'not-my-password' } });
      const locked = await users.request(DELETE, { token: me.token, variables: { p: me.password } });
      expect(locked.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(await users.service.prisma.accountDeletion.count({ where: { userId: me.id } })).toBe(0);
      expect(await auditActions(me.id)).toEqual(['users.login.lockout']);
    });

    it('refuses a second request while one is scheduled, and schedules again after a cancel', async () => {
      const me = await users.signUp('twice');
      const first = await users.request(DELETE, { token: me.token, variables: { p: me.password } });
      expect(first.errors).toBeUndefined();
      const deletion = first.data.requestAccountDeletion.deletion;
      expect(deletion.status).toBe('SCHEDULED');
      // Out of the poller's reach while the test runs.
      await users.service.prisma.accountDeletion.update({ where: { id: deletion.id }, data: { scheduledFor: new Date(Date.now() + 3_600_000) } });
      const second = await users.request(DELETE, { token: me.token, variables: { p: me.password } });
      expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'DELETION_ALREADY_REQUESTED', deletionId: deletion.id });
      expect(await users.service.prisma.accountDeletion.count({ where: { userId: me.id } })).toBe(1);

      const cancelled = await users.request(CANCEL, { token: me.token });
      expect(cancelled.data.cancelAccountDeletion.deletion).toEqual({ id: deletion.id, status: 'CANCELLED' });
      const again = await users.request(CANCEL, { token: me.token });
      expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await auditActions(me.id)).toEqual(['users.account-deletion.request', 'users.account-deletion.cancel']);
    });

    it('refuses while a payment is in flight, whatever order payments events arrive in', async () => {
      const me = await users.signUp('buyer');
      const open = randomUUID();
      const settled = randomUUID();
      const courseId = randomUUID();
      // The outcome of one payment overtakes its start; the other is only started.
      await users.publish('PaymentSucceeded', { paymentId: settled, userId: me.id, courseId });
      await users.publish('PaymentStarted', { paymentId: settled, userId: me.id, courseId });
      await users.publish('PaymentStarted', { paymentId: open, userId: me.id, courseId });
      await waitFor(async () => (await users.service.prisma.paymentProjection.count({ where: { userId: me.id } })) === 2, 'the projection');
      const refused = await users.request(DELETE, { token: me.token, variables: { p: me.password } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'PAYMENT_IN_FLIGHT', payments: 1 });
      expect(await users.service.prisma.accountDeletion.count({ where: { userId: me.id } })).toBe(0);

      await users.publish('PaymentFailed', { paymentId: open, userId: me.id, courseId });
      await waitFor(async () => (await users.service.prisma.paymentProjection.count({ where: { userId: me.id, closedAt: null } })) === 0, 'the payment closed');
      const accepted = await users.request(DELETE, { token: me.token, variables: { p: me.password } });
      expect(accepted.errors).toBeUndefined();
      await users.request(CANCEL, { token: me.token });
    });

    it('erases once the cool-off ended: one start, sessions refused, completed with both steps, exactly once', async () => {
      const me = await users.signUp('leaver');
      const r = await users.request(DELETE, { token: me.token, variables: { p: me.password } });
      expect(r.errors).toBeUndefined();
      const deletionId = r.data.requestAccountDeletion.deletion.id;
      const request = await requestOf('AccountErasureRequested', 'deletionId', deletionId);
      expect(request.payload).toMatchObject({ deletionId, userId: me.id, pseudonym: expect.stringMatching(/^erased-/) });
      // Started once, by the poller: another claim finds nothing due.
      expect(await startDueErasure(users.service.domain)).toBeNull();
      const user = await users.service.prisma.user.findUniqueOrThrow({ where: { id: me.id } });
      expect(user).toMatchObject({ status: 'ERASED', name: 'Deleted user' });
      expect(user.email).not.toBe(me.email);
      const refused = await users.request('{ me { id } }', { token: me.token });
      expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const login = await users.request(`mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }`, { variables: { i: { email: me.email, password: me.password } } });
      expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      // Cancelling now is refused, with nothing changed.
      await expect(cancelAccountDeletion(users.service.domain, { id: admin.id, role: 'ADMIN' }, me.id)).rejects.toMatchObject({ extensions: { code: 'ERASURE_STARTED' } });
      const byAdmin = await users.request(CANCEL, { token: admin.token, variables: { u: me.id } });
      expect(byAdmin.errors?.[0]?.extensions?.code).toBe('ERASURE_STARTED');

      const step = (service: string) => users.publish('AccountErasureStepCompleted', { acknowledges: request.id, deletionId, userId: me.id, service, summary: { rows: 1 } });
      await step('courses');
      await step('courses');
      await waitFor(async () => (await users.service.prisma.accountDeletionStep.count({ where: { deletionId } })) === 2, 'the courses step');
      expect((await users.service.prisma.accountDeletion.findUniqueOrThrow({ where: { id: deletionId } })).status).toBe('RUNNING');
      await step('payments');
      await step('payments');
      await waitFor(async () => (await users.service.prisma.accountDeletion.findUniqueOrThrow({ where: { id: deletionId } })).status === 'COMPLETED', 'COMPLETED');
      expect((await users.service.prisma.outboxEvent.findUniqueOrThrow({ where: { id: request.id } })).acknowledgedAt).not.toBeNull();
      expect(await auditActions(me.id)).toEqual(['users.account-deletion.request', 'users.account-erasure.start', 'users.account-erasure.complete']);

      const listed = await users.request(`{ accountDeletions(first: 50, status: COMPLETED) { edges { node { id steps { service summary } } } } }`, { token: admin.token });
      const mine = listed.data.accountDeletions.edges.find((e: any) => e.node.id === deletionId).node;
      expect(mine.steps.map((s: any) => s.service).sort()).toEqual(['courses', 'payments', 'users']);
    });
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('two users instances on one database', () => {
  it('start a due erasure exactly once between them', async () => {
    const { createTestDatabases } = await import('@campus/test-kit');
    const database = await createTestDatabases(process.env.TEST_DATABASE_URL, ['users']);
    const env = { ACCOUNT_DELETION_COOL_OFF_SECONDS: '0', USERS_POLL_INTERVAL_MS: '20' };
    const a = await startUsers({ env, database });
    const b = await startUsers({ env, database });
    try {
      const leavers = await Promise.all(Array.from({ length: 5 }, (_, i) => a.signUp(`racer-${i}`)));
      for (const me of leavers) {
        const r = await a.request(DELETE, { token: me.token, variables: { p: me.password } });
        expect(r.errors).toBeUndefined();
      }
      // Both pollers race for every due deletion, and so do two direct claims.
      await Promise.all([startDueErasure(a.service.domain), startDueErasure(b.service.domain)]);
      const ids = leavers.map((l) => l.id);
      await waitFor(async () => (await a.service.prisma.accountDeletion.count({ where: { userId: { in: ids }, status: 'RUNNING' } })) === 5, 'every erasure started');
      const requests = await a.service.prisma.outboxEvent.findMany({ where: { type: 'AccountErasureRequested' } });
      expect(requests.filter((r) => ids.includes((r.payload as { userId: string }).userId))).toHaveLength(5);
      expect(await a.service.prisma.auditEntry.count({ where: { action: 'users.account-erasure.start', targetId: { in: ids } } })).toBe(5);
      expect(await verifyAuditChain(a.service.prisma)).toMatchObject({ ok: true });
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
