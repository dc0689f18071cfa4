/**
 * The router's own plan executor (ROUTER_PLAN_EXECUTOR=own, router/src/planning/plan-executor/,
 * docs/performance.md "Our own plan execution") answers exactly as the gateway's executeQueryPlan:
 * two routers in front of the same Campus subgraphs, one with each executor, get the same requests,
 * and every answer must be the same status and the same body, byte for byte once stack traces are
 * set aside (they name the code that ran). The operations span the three subgraphs, signed in and
 * anonymous, with aliases, fragments, @include/@skip, __typename, fields the viewer may not read
 * (null propagation from a non-null field), lookups that find nothing, and a refused mutation.
 * router/test/plan-executor.test.ts compares the two executors result by result on the gateways
 * benchmark's subgraphs and on subgraphs that fail in every way a test can make them.
 */
import { sharedTestStack, startSecondRouter, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logInAs, type Account } from '../courses/router-clients.ts';

interface Exchange {
  status: number;
  body: string;
}

/** Stack traces differ by construction (different code answered); whether there is one must not. */
function withoutStacktraces(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { extensions?: Record<string, unknown> }[] };
    for (const error of body.errors ?? []) {
      if (error.extensions && 'stacktrace' in error.extensions) error.extensions.stacktrace = 'present';
    }
    return JSON.stringify(body);
  } catch {
    return text;
  }
}

async function exchange(url: string, body: unknown, token?: string): Promise<Exchange> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: withoutStacktraces(await response.text()) };
}

/** Starts a router with ROUTER_PLAN_EXECUTOR=`executor` over the stack's subgraphs. */
function startRouterWith(stack: TestStack, executor: 'own' | 'gateway') {
  return startSecondRouter(stack, { ROUTER_PLAN_EXECUTOR: executor });
}

const CATALOG =
  'query CatalogPage($first: Int!) { courses(first: $first) { totalCount edges { node { id slug title price { amount currency } lessonCount instructor { name } } } pageInfo { hasNextPage endCursor } } }';
const LEARNING =
  'query MyLearning { me { id name enrollments(first: 10) { totalCount edges { node { id status course { title instructor { name } } progress { completedLessons totalLessons percent } } } } } }';
const PAYMENTS =
  'query MyPayments { me { id payments(first: 10) { totalCount edges { node { id status amount { amount currency } paidAt receipt { number } course { title } } } } } }';

describe('plan execution: the router executor answers as the gateway executor', () => {
  let stack: TestStack;
  let student: Account;
  let instructor: Account;
  let own: { url: string; stop(): Promise<void> } | undefined;
  let gateway: { url: string; stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    stack = await sharedTestStack();
    [student, instructor] = await Promise.all([logInAs(stack.routerUrl, 'STUDENT'), logInAs(stack.routerUrl, 'INSTRUCTOR')]);
    own = await startRouterWith(stack, 'own');
    gateway = await startRouterWith(stack, 'gateway');
  });
  afterAll(async () => {
    await Promise.all([own?.stop(), gateway?.stop()]);
  });

  // [name, body, who asks]
  const cases: [string, () => unknown, () => string | undefined][] = [
    ['a catalog page (courses, then users)', () => ({ query: CATALOG, variables: { first: 20 }, operationName: 'CatalogPage' }), () => undefined],
    ["the student's learning (users, courses, users)", () => ({ query: LEARNING }), () => student.token],
    ["the student's payments (users, payments, courses)", () => ({ query: PAYMENTS }), () => student.token],
    ['me, anonymous (null)', () => ({ query: '{ me { id name } }' }), () => undefined],
    [
      'aliases, __typename and fragments across subgraphs',
      () => ({
        query:
          'fragment Teacher on User { __typename name t: __typename } { __typename first: courses(first: 2) { edges { node { __typename id t: title instructor { ...Teacher id } ... on Course { slug instructor { n: name } } } } } second: courses(first: 1) { totalCount } }',
      }),
      () => student.token,
    ],
    [
      '@include and @skip on fields of other subgraphs',
      () => ({
        query:
          'query ($withTeacher: Boolean!, $skipPrice: Boolean = true) { courses(first: 3) { edges { node { title instructor @include(if: $withTeacher) { name } price @skip(if: $skipPrice) { amount } viewerEnrollment @include(if: $withTeacher) { status } } } } }',
        variables: { withTeacher: true },
      }),
      () => student.token,
    ],
    [
      '@include false drops the fetch',
      () => ({ query: 'query ($t: Boolean!) { courses(first: 3) { edges { node { title instructor @include(if: $t) { name } } } } }', variables: { t: false } }),
      () => undefined,
    ],
    ['a field the viewer may not read (partial data and FORBIDDEN)', () => ({ query: '{ courses(first: 1) { totalCount } users(first: 1) { totalCount } }' }), () => student.token],
    [
      'a non-null field the viewer may not read, nulled up to its nullable parent',
      () => ({ query: '{ courses(first: 2) { edges { node { title sales { __typename } instructor { name } } } } }' }),
      () => student.token,
    ],
    ["an instructor's own courses with their sales", () => ({ query: '{ me { name coursesTaught(first: 3) { totalCount edges { node { title sales { __typename } } } } } }' }), () => instructor.token],
    ['a course that is not there (NOT_FOUND)', () => ({ query: '{ course(slug: "no-such-course") { id title instructor { name } } }' }), () => undefined],
    [
      'a lesson from a course by slug, its content gated',
      () => ({ query: 'query ($first: Int!) { courses(first: $first) { edges { node { slug lessons { title isPreview content course { title instructor { name } } } } } } }', variables: { first: 2 } }),
      () => student.token,
    ],
    ['a mutation refused by its subgraph', () => ({ query: 'mutation { enrollInFreeCourse(input: { courseId: "00000000-0000-4000-8000-000000000000" }) { enrollment { id course { title } } } }' }), () => student.token],
    ['introspection beside data (the gateway executor on both)', () => ({ query: '{ __schema { queryType { name } } courses(first: 1) { totalCount } }' }), () => undefined],
  ];

  for (const [name, body, token] of cases) {
    it(name, async () => {
      // Twice: the first time plans and compiles, the second finds both ready.
      for (let round = 0; round < 2; round++) {
        const ownAnswer = await exchange(own!.url, body(), token());
        const gatewayAnswer = await exchange(gateway!.url, body(), token());
        expect(ownAnswer).toEqual(gatewayAnswer);
      }
    });
  }

  it('the cases are answers with data, and some with errors', async () => {
    // A guard against comparing two routers that both fail every request the same way.
    const answers = await Promise.all(cases.map(([, body, token]) => exchange(own!.url, body(), token())));
    const parsed = answers.map((a) => JSON.parse(a.body) as { data?: unknown; errors?: unknown[] });
    expect(parsed.filter((a) => a.data && !a.errors).length).toBeGreaterThanOrEqual(6);
    expect(parsed.filter((a) => a.errors?.length).length).toBeGreaterThanOrEqual(3);
  });
});
