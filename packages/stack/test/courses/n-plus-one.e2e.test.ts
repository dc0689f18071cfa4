/**
 * No N+1: queries through the router cost the courses database the same small
 * number of SQL statements whether they touch 5 rows or 50. Statements are counted as the courses
 * service's Prisma client sends them (its query events), on the demo data (seed scale 1).
 */
import { DEMO_PASSWORD } from '@campus/kit/core';
import { graphql, logIn, signedSubgraphRequest } from '@campus/test-kit';
import { startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logInAs } from './router-clients.ts';

const CATALOG = /* GraphQL */ `
  query($n: Int!) { courses(first: $n) { edges { node { title instructor { name } lessons { title } lessonCount enrollmentCount } } } }
`;
const MY_LEARNING = /* GraphQL */ `
  query($n: Int!) { me { enrollments(first: $n) { edges { node { course { title lessons { title } } progress { percent } } } } } }
`;
const USERS_LEARNING = /* GraphQL */ `
  query($n: Int!) { users(first: $n) { edges { node { name enrollments(first: 3) { totalCount edges { node { course { title } } } } coursesTaught { totalCount } } } } }
`;

/**
 * The outbox relay polls the database in the background; its statements (and the transaction
 * around them) are not the request's.
 */
const isRequestStatement = (sql: string) => !/"OutboxEvent"/.test(sql) && !/^\s*(--|BEGIN|COMMIT|ROLLBACK)/i.test(sql);

describe('SQL statements per request, through the router', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ seedScale: 1 });
  });
  afterAll(() => stack?.close());

  async function statementsFor(query: string, n: number, token?: string): Promise<{ count: number; data: any; sql: string[] }> {
    const sql: string[] = [];
    const stop = stack.services.courses!.onStatement!((statement) => {
      if (isRequestStatement(statement)) sql.push(statement);
    });
    try {
      const r = await graphql(stack.routerUrl, query, { token, variables: { n } });
      expect(r.errors).toBeUndefined();
      return { count: sql.length, data: r.data, sql };
    } finally {
      stop();
    }
  }

  it('costs the same few statements for courses(first: 5) and courses(first: 50) with instructors, lessons and counts', async () => {
    const five = await statementsFor(CATALOG, 5);
    const fifty = await statementsFor(CATALOG, 50);
    expect([five.data.courses.edges.length, fifty.data.courses.edges.length]).toEqual([5, 50]);
    console.info(`courses(first: N): ${five.count} statements for N=5, ${fifty.count} for N=50`);
    expect(fifty.count, fifty.sql.join('\n')).toBe(five.count);
    expect(five.count).toBeLessThanOrEqual(3);
  });

  it('costs the same few statements for me { enrollments(first: 5) } and (first: 50) with courses, lessons and progress', async () => {
    // student1 is the seed's power learner, enrolled in more than 50 courses.
    const learner = await logIn(stack.routerUrl, 'student1@campus.test', DEMO_PASSWORD);
    const five = await statementsFor(MY_LEARNING, 5, learner.accessToken);
    const fifty = await statementsFor(MY_LEARNING, 50, learner.accessToken);
    expect([five.data.me.enrollments.edges.length, fifty.data.me.enrollments.edges.length]).toEqual([5, 50]);
    console.info(`me { enrollments(first: N) }: ${five.count} statements for N=5, ${fifty.count} for N=50`);
    expect(fifty.count, fifty.sql.join('\n')).toBe(five.count);
    expect(five.count).toBeLessThanOrEqual(4);
  });

  it('pages the enrollments and courses taught of many users in one statement each (one _entities request)', async () => {
    const admin = await logInAs(stack.routerUrl, 'ADMIN');
    const five = await statementsFor(USERS_LEARNING, 5, admin.token);
    const fifty = await statementsFor(USERS_LEARNING, 50, admin.token);
    expect([five.data.users.edges.length, fifty.data.users.edges.length]).toEqual([5, 50]);
    console.info(`users(first: N) { enrollments coursesTaught }: ${five.count} statements for N=5, ${fifty.count} for N=50`);
    expect(fifty.count, fifty.sql.join('\n')).toBe(five.count);
    expect(five.count).toBeLessThanOrEqual(5);
  });

  it('costs one statement for N course references in one _entities request (the shape payments sends)', async () => {
    const student = await logInAs(stack.routerUrl, 'STUDENT');
    const catalog = await graphql(stack.routerUrl, `{ courses(first: 40) { edges { node { id } } } }`);
    const ids: string[] = catalog.data.courses.edges.map((e: { node: { id: string } }) => e.node.id);
    const statementsFor = async (n: number) => {
      const sql: string[] = [];
      const stop = stack.services.courses!.onStatement!((s) => void (isRequestStatement(s) && sql.push(s)));
      try {
        const r = await signedSubgraphRequest(
          `${stack.urls.courses}/graphql`,
          { signer: stack.signers.router, audience: 'courses' },
          `query($r: [_Any!]!) { _entities(representations: $r) { ... on Course { id title price { amount } } } }`,
          { token: student.token, variables: { r: ids.slice(0, n).map((id) => ({ __typename: 'Course', id })) } },
        );
        expect(r.data._entities).toHaveLength(n);
      } finally {
        stop();
      }
      return sql.length;
    };
    expect(await statementsFor(5)).toBe(1);
    expect(await statementsFor(40)).toBe(1);
  });
});
