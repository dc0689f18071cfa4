/**
 * Privacy through the router (docs/privacy.md): a data export gathered from all three services, a
 * deletion cancelled in its cool-off, an erasure carried out by all three, the audit log's chain
 * and what breaks it, and every refusal with its code and nothing written. Runs on the embedded
 * default (PGlite, in-process bus) and, with TEST_DATABASE_URL and TEST_REDIS_URL, on PostgreSQL
 * and Redis Streams. A stack of its own: a cool-off of seconds, and a sandbox whose delayed card
 * stays PENDING for the length of the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, errorCode, graphql, waitFor, type WsConnection } from '@campus/test-kit';
import type { CoursesService } from '@campus/courses/service';
import type { PaymentsService } from '@campus/payments/service';
import { verifyAuditChain } from '@campus/users/audit-log';
import type { UsersService } from '@campus/users/service';
import { startTestStack, type TestStack } from '../../src/testing.ts';
import { checkout, createCourse, logInAs, newStudent, type Account, type PaidCourse } from '../payments-helpers.ts';
import {
  AUDIT_LOG,
  buyer,
  CANCEL_DELETION,
  DATA_EXPORT,
  deletionIn,
  exportReady,
  REQUEST_DELETION,
  REQUEST_EXPORT,
  STUDENT_PASSWORD,
} from './helpers.ts';

const COOL_OFF_SECONDS = 3;

describe('privacy through the router', () => {
  let stack: TestStack;
  let url: string;
  let admin: Account;
  let course: PaidCourse;
  let users: UsersService;
  let courses: CoursesService;
  let payments: PaymentsService;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        ACCOUNT_DELETION_COOL_OFF_SECONDS: String(COOL_OFF_SECONDS),
        USERS_POLL_INTERVAL_MS: '100',
        // pm_card_visa_delayed stays PENDING while the file runs: a payment in flight.
        PAYMENTS_SANDBOX_DELAY_MS: '600000',
      },
    });
    url = stack.routerUrl;
    users = stack.services.users as unknown as UsersService;
    courses = stack.services.courses as unknown as CoursesService;
    payments = stack.services.payments as unknown as PaymentsService;
    admin = await logInAs(url, 'ADMIN');
    course = await createCourse(url, await logInAs(url, 'INSTRUCTOR'));
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await stack?.close();
  });

  it('exports what all three services hold, and tells the user live', async () => {
    const student = await buyer(url, course.id);
    const connection = await connectWs(url, { token: student.token });
    sockets.push(connection);
    const before = users.server.liveSubscriptions().subscriptions;
    const live = connection.subscribe(`subscription { myDataExports { id status document } }`);
    await waitFor(() => users.server.liveSubscriptions().subscriptions > before, 'the subscription live in users');

    const r = await graphql(url, REQUEST_EXPORT, { token: student.token });
    expect(r.errors).toBeUndefined();
    const requested = r.data.requestDataExport.export;
    expect(requested).toMatchObject({ status: 'PENDING', readyAt: null, document: null });

    const event = (await live.nth(0, 30_000)).data!.myDataExports;
    expect(event).toMatchObject({ id: requested.id, status: 'READY' });
    const ready = await exportReady(url, student, requested.id);
    expect(new Date(ready.expiresAt).getTime() - new Date(ready.readyAt).getTime()).toBe(7 * 86_400_000);
    const document = JSON.parse(ready.document);
    expect(event.document).toBe(ready.document);
    expect(document.users.profile.id).toBe(student.id);
    expect(document.users.sessions.length).toBeGreaterThan(0);
    expect(JSON.stringify(document.courses)).toContain(course.id);
    expect(JSON.stringify(document.payments)).toContain(student.paymentId);
    expect(ready.document).not.toMatch(/passwordHash|tokenHash|\$argon2/);

    // Only the requester and admins see it.
    expect((await graphql(url, DATA_EXPORT, { token: admin.token, variables: { id: requested.id } })).data.dataExport.status).toBe('READY');
    const other = await newStudent(url);
    const nosy = await graphql(url, DATA_EXPORT, { token: other.token, variables: { id: requested.id } });
    expect(nosy.errors).toBeUndefined();
    expect(nosy.data.dataExport).toBeNull();
  });

  it('cancels a deletion during its cool-off: the account stays as it was', async () => {
    const student = await newStudent(url);
    const requested = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: STUDENT_PASSWORD } });
    expect(requested.errors).toBeUndefined();
    const deletion = requested.data.requestAccountDeletion.deletion;
    expect(deletion.status).toBe('SCHEDULED');
    expect(new Date(deletion.scheduledFor).getTime()).toBeGreaterThan(Date.now());

    const cancelled = await graphql(url, CANCEL_DELETION, { token: student.token });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data.cancelAccountDeletion.deletion).toEqual({ id: deletion.id, status: 'CANCELLED' });

    // Past the cool-off, with the poller run once more: nothing was erased.
    await waitFor(() => Date.now() > new Date(deletion.scheduledFor).getTime(), 'the cool-off to pass', (COOL_OFF_SECONDS + 2) * 1000);
    await users.runPrivacyJobs();
    const me = await graphql(url, `{ me { id name } myAccountDeletion { id status } }`, { token: student.token });
    expect(me.errors).toBeUndefined();
    expect(me.data.me).toEqual({ id: student.id, name: 'Test Student' });
    expect(me.data.myAccountDeletion).toEqual({ id: deletion.id, status: 'CANCELLED' });
  });

  describe('a completed erasure', () => {
    let student: Account & { paymentId: string };
    let deletionId: string;
    let sales: { count: number; amount: number | null };

    beforeAll(async () => {
      student = await buyer(url, course.id);
      const sum = () => payments.prisma.payment.aggregate({ where: { courseId: course.id, status: 'SUCCEEDED' }, _count: true, _sum: { amount: true } });
      const before = await sum();
      sales = { count: before._count, amount: before._sum.amount };
      const r = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: STUDENT_PASSWORD } });
      expect(r.errors).toBeUndefined();
      deletionId = r.data.requestAccountDeletion.deletion.id;
      await deletionIn(url, admin, deletionId, 'COMPLETED');
    });

    it('ends every session: the access token is refused everywhere', async () => {
      const read = await graphql(url, `{ me { id } }`, { token: student.token });
      expect(errorCode(read)).toBe('UNAUTHENTICATED');
      const write = await graphql(url, CANCEL_DELETION, { token: student.token });
      expect(errorCode(write)).toBe('UNAUTHENTICATED');
      expect(write.errors![0]!.extensions!.sessionEnded).toBe('ACCOUNT_ERASED');
    });

    it('leaves no personal data in users and courses, and payments pseudonymized with totals unchanged', async () => {
      const user = await users.prisma.user.findUniqueOrThrow({ where: { id: student.id } });
      expect(user).toMatchObject({ status: 'ERASED', name: 'Deleted user' });
      expect(user.email).not.toContain('buyer-');
      expect(await users.prisma.sessionFamily.count({ where: { userId: student.id, revokedAt: null } })).toBe(0);
      expect(await users.prisma.refreshToken.count({ where: { family: { userId: student.id } } })).toBe(0);

      expect(await courses.prisma.enrollment.count({ where: { userId: student.id } })).toBe(0);

      expect(await payments.prisma.payment.count({ where: { userId: student.id } })).toBe(0);
      const payment = await payments.prisma.payment.findUniqueOrThrow({ where: { id: student.paymentId } });
      expect(payment).toMatchObject({ status: 'SUCCEEDED', buyerEmail: null });
      expect(payment.buyerName).not.toBe('Privacy Buyer');
      const after = await payments.prisma.payment.aggregate({ where: { courseId: course.id, status: 'SUCCEEDED' }, _count: true, _sum: { amount: true } });
      expect({ count: after._count, amount: after._sum.amount }).toEqual(sales);
    });

    it('shows admins the deletion with every step, and writes it to the audit log', async () => {
      const node = await deletionIn(url, admin, deletionId, 'COMPLETED');
      expect(node.steps.map((s: { service: string }) => s.service).sort()).toEqual(['courses', 'payments', 'users']);
      const log = await graphql(url, AUDIT_LOG, { token: admin.token, variables: { f: { targetId: student.id } } });
      expect(log.errors).toBeUndefined();
      const actions = log.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action);
      expect(actions).toEqual(expect.arrayContaining(['users.account-deletion.request', 'users.account-erasure.start', 'users.account-erasure.complete']));
    });

    it("shows admins the kept payment's buyer as an erased person, with nothing about them", async () => {
      const r = await graphql(url, `query ($id: ID!) { payment(id: $id) { status user { id name email role } } }`, {
        token: admin.token,
        variables: { id: student.paymentId },
      });
      expect(r.errors).toBeUndefined();
      expect(r.data.payment.status).toBe('SUCCEEDED');
      expect(r.data.payment.user).toMatchObject({ name: 'Deleted user', email: null, role: 'STUDENT' });
      expect(r.data.payment.user.id).not.toBe(student.id);
    });

    it('refuses to cancel once the erasure ran, changing nothing', async () => {
      const r = await graphql(url, CANCEL_DELETION, { token: admin.token, variables: { u: student.id } });
      expect(errorCode(r)).toBe('ERASURE_STARTED');
      await deletionIn(url, admin, deletionId, 'COMPLETED');
    });
  });

  describe('bad inputs: a clear error with its code, and nothing written', () => {
    it('refuses a second deletion request while one is scheduled', async () => {
      const student = await newStudent(url);
      const first = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: STUDENT_PASSWORD } });
      expect(first.errors).toBeUndefined();
      const second = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: STUDENT_PASSWORD } });
      expect(errorCode(second)).toBe('DELETION_ALREADY_REQUESTED');
      expect(await users.prisma.accountDeletion.count({ where: { userId: student.id } })).toBe(1);
      await graphql(url, CANCEL_DELETION, { token: student.token });
    });

    it('refuses a wrong password', async () => {
      const student = await newStudent(url);
      const r = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: 'not the password' } });
      expect(r.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
      expect(await users.prisma.accountDeletion.count({ where: { userId: student.id } })).toBe(0);
    });

    it("refuses a non-admin's export of another user's data", async () => {
      const student = await newStudent(url);
      const other = await newStudent(url);
      const r = await graphql(url, REQUEST_EXPORT, { token: student.token, variables: { u: other.id } });
      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(await users.prisma.dataExport.count({ where: { userId: other.id } })).toBe(0);
    });

    it('refuses to erase an account with a payment in flight', async () => {
      const student = await newStudent(url);
      const r = await checkout(url, student, course.id, 'pm_card_visa_delayed');
      expect(r.data.checkout.payment.status).toBe('PENDING');
      // Users learns it from PaymentStarted on the bus.
      await waitFor(async () => (await users.prisma.paymentProjection.count({ where: { userId: student.id, closedAt: null } })) === 1, 'PaymentStarted in users', 15_000);
      const refused = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: STUDENT_PASSWORD } });
      expect(errorCode(refused)).toBe('PAYMENT_IN_FLIGHT');
      expect(await users.prisma.accountDeletion.count({ where: { userId: student.id } })).toBe(0);
    });
  });

  // Last: it edits the log behind the trigger, and the chain stays broken from there on.
  it('keeps one verifiable audit chain, and finds a row edited behind its back', async () => {
    expect(await verifyAuditChain(users.prisma)).toMatchObject({ ok: true });
    const entry = await users.prisma.auditEntry.findFirstOrThrow({ where: { action: 'users.account-erasure.start' } });
    await users.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`ALTER TABLE "AuditEntry" DISABLE TRIGGER "AuditEntry_append_only"`);
      await tx.$executeRawUnsafe(`UPDATE "AuditEntry" SET "targetId" = NULL WHERE "id" = $1::uuid`, entry.id);
      await tx.$executeRawUnsafe(`ALTER TABLE "AuditEntry" ENABLE TRIGGER "AuditEntry_append_only"`);
    });
    expect(await verifyAuditChain(users.prisma)).toMatchObject({ ok: false, brokenSeq: entry.seq });
  });
});
