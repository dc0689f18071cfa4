/**
 * An erasure survives a participant that is down mid-saga (docs/privacy.md): every service its own
 * process on PostgreSQL and Redis (packages/stack/src/process-stack.ts). Courses is stopped before
 * the erasure starts; users starts it, payments takes its step, and the deletion waits RUNNING.
 * Courses comes back, takes the request still waiting for it on the bus (or republished by users'
 * relay once its answer is overdue), and the deletion completes, once. Skipped without
 * TEST_DATABASE_URL and TEST_REDIS_URL, as every process-stack test is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { errorCode, graphql, waitFor } from '@campus/test-kit';
import { processStackAvailable, startProcessStack, type ProcessStack } from '../../src/process-stack.ts';
import { createCourse, logInAs, type Account } from '../payments-helpers.ts';
import { buyer, deletionIn, DELETIONS, REQUEST_DELETION, STUDENT_PASSWORD } from './helpers.ts';

describe.skipIf(!processStackAvailable())('an erasure with a participant down mid-saga', () => {
  let stack: ProcessStack;
  let admin: Account;
  beforeAll(async () => {
    stack = await startProcessStack({
      env: { ACCOUNT_DELETION_COOL_OFF_SECONDS: '2', USERS_POLL_INTERVAL_MS: '200', USERS_ACK_TIMEOUT_MS: '3000' },
    });
    admin = await logInAs(stack.routerUrl, 'ADMIN');
  }, 180_000);
  afterAll(() => stack?.close());

  /** Rows of a subgraph's own database, read directly. */
  async function query<T>(service: 'users' | 'courses' | 'payments', sql: string, params: unknown[]): Promise<T[]> {
    const url = stack.env[`${service.toUpperCase()}_DATABASE_URL`]!;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('completes once courses is back', async () => {
    const url = stack.routerUrl;
    const course = await createCourse(url, await logInAs(url, 'INSTRUCTOR'));
    const student = await buyer(url, course.id);
    const r = await graphql(url, REQUEST_DELETION, { token: student.token, variables: { p: STUDENT_PASSWORD } });
    expect(r.errors).toBeUndefined();
    const deletionId: string = r.data.requestAccountDeletion.deletion.id;

    await stack.kill('courses');
    const running = await deletionIn(url, admin, deletionId, 'RUNNING', 30_000);
    // Payments took its step; courses, down, could not.
    await waitFor(async () => {
      const r2 = await graphql(url, DELETIONS, { token: admin.token });
      const node = r2.data?.accountDeletions.edges.find((e: { node: { id: string } }) => e.node.id === deletionId)?.node;
      return node?.steps.some((s: { service: string }) => s.service === 'payments');
    }, 'the payments step', 30_000);
    expect(running.steps.some((s: { service: string }) => s.service === 'courses')).toBe(false);
    expect(errorCode(await graphql(url, `{ me { id } }`, { token: student.token }))).toBe('UNAUTHENTICATED');

    await stack.restart('courses');
    const completed = await deletionIn(url, admin, deletionId, 'COMPLETED', 60_000);
    expect(completed.steps.map((s: { service: string }) => s.service).sort()).toEqual(['courses', 'payments', 'users']);
    expect(await query('courses', `SELECT 1 FROM "Enrollment" WHERE "userId" = $1::uuid`, [student.id])).toHaveLength(0);
    expect(await query('payments', `SELECT 1 FROM "Payment" WHERE "userId" = $1::uuid`, [student.id])).toHaveLength(0);
    // Completed exactly once.
    const audit = await query<{ action: string }>('users', `SELECT "action" FROM "AuditEntry" WHERE "targetId" = $1 AND "action" LIKE 'users.account-erasure.%'`, [student.id]);
    expect(audit.map((a) => a.action).sort()).toEqual(['users.account-erasure.complete', 'users.account-erasure.start']);
  }, 180_000);
});
