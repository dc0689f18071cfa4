/**
 * Identity in the production topology: every service its own process, PostgreSQL and Redis, so
 * revocations, throttling counters and seen request ids only travel the way separate instances
 * share them (Redis, HTTP). The embedded default is covered by each concern's own tests.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, createRequestSigner } from '@campus/kit/identity';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStackAvailable, startProcessStack, type ProcessStack } from '../src/process-stack.ts';
import { connectWs, errorCode, graphql, logIn, postRaw, signedSubgraphRequest, signSubgraphRequest, waitFor } from '@campus/test-kit';

const [admin, , student] = DEMO_ACCOUNTS;
const SET_ROLE = 'mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { user { id role } } }';
const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }';

describe.skipIf(!processStackAvailable())('identity with services as separate processes', () => {
  let stack: ProcessStack;
  beforeAll(async () => {
    stack = await startProcessStack();
  });
  afterAll(() => stack?.close());

  const signUp = async (role?: 'ADMIN') => {
    const email = `proc-${randomUUID()}@campus.test`;
    const r = await graphql(stack.routerUrl, SIGN_UP, { variables: { input: { email, password: 'long-enough-pw', name: 'Process Test' } } });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    let token = r.data.signUp.accessToken as string;
    if (role) {
      const adminToken = (await logIn(stack.routerUrl, admin.email, DEMO_PASSWORD)).accessToken;
      const promoted = await graphql(stack.routerUrl, SET_ROLE, { token: adminToken, variables: { input: { userId: r.data.signUp.user.id, role } } });
      expect(promoted.errors).toBeUndefined();
      token = (await logIn(stack.routerUrl, email, 'long-enough-pw')).accessToken;
    }
    return { email, id: r.data.signUp.user.id as string, token };
  };

  it('refuses a demoted admin’s old token at the router and in every subgraph, and closes its subscription', async () => {
    const demoted = await signUp('ADMIN');
    const socket = await connectWs(stack.routerUrl, { token: demoted.token });
    const events = socket.subscribe('subscription { mySessionEvents { reason } }');
    // Their admin powers work until the demotion.
    expect((await graphql(stack.routerUrl, '{ users(first: 1) { totalCount } }', { token: demoted.token })).errors).toBeUndefined();

    const adminToken = (await logIn(stack.routerUrl, admin.email, DEMO_PASSWORD)).accessToken;
    const demote = await graphql(stack.routerUrl, SET_ROLE, { token: adminToken, variables: { input: { userId: demoted.id, role: 'STUDENT' } } });
    expect(demote.errors).toBeUndefined();

    // Within a second, through every process: the router, then each subgraph directly.
    const started = Date.now();
    await waitFor(async () => (await graphql(stack.routerUrl, '{ me { id } }', { token: demoted.token })).status === 401, 'the router to refuse the old token', 5_000);
    const signer = createRequestSigner('router', [stack.env.ROUTER_SIGNING_KEYS!]);
    for (const service of ['users', 'courses', 'payments'] as const) {
      await waitFor(
        async () => errorCode(await signedSubgraphRequest(`${stack.urls[service]}/graphql`, { signer, audience: service }, '{ __typename }', { token: demoted.token })) === 'UNAUTHENTICATED',
        `${service} to refuse the old token`,
        5_000,
      );
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await socket.closed).toBe(4403);
    await events.ended;
    await socket.close();
  });

  it('refuses writes by the token of an account deleted from the database, and writes nothing', async () => {
    const gone = await signUp();
    const db = new pg.Client({ connectionString: stack.env.USERS_DATABASE_URL });
    await db.connect();
    try {
      await db.query('DELETE FROM "User" WHERE id = $1', [gone.id]);
    } finally {
      await db.end();
    }
    const free = await graphql(stack.routerUrl, '{ courses(first: 1, filter: { isFree: true }) { edges { node { id } } } }');
    const courseId = free.data.courses.edges[0].node.id as string;
    const r = await graphql(stack.routerUrl, 'mutation($id: ID!) { enrollInFreeCourse(input: { courseId: $id }) { enrollment { id } } }', { token: gone.token, variables: { id: courseId } });
    expect(r.status).toBe(401);
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
    const courses = new pg.Client({ connectionString: stack.env.COURSES_DATABASE_URL });
    await courses.connect();
    try {
      const { rows } = await courses.query('SELECT count(*)::int AS n FROM "Enrollment" WHERE "userId" = $1', [gone.id]);
      expect(rows[0].n).toBe(0);
    } finally {
      await courses.end();
    }
  });

  it('refuses a token without an expiry, signed with the real key', async () => {
    const key = createPrivateKey(stack.env.USERS_JWT_PRIVATE_KEY!);
    const token = await new SignJWT({ role: 'ADMIN', sid: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(DEMO_ACCOUNTS[0].id)
      .setIssuedAt()
      .sign(key);
    const r = await graphql(stack.routerUrl, '{ users(first: 1) { totalCount } }', { token });
    expect(r.status).toBe(401);
    expect(r.data?.users).toBeUndefined();
  });

  it('verifies at most the lockout limit of passwords when 60 wrong logins race', async () => {
    const { email } = await signUp();
    const results = await Promise.all(
      Array.from({ length: 60 }, () => graphql(stack.routerUrl, 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }', { variables: { i: { email, password: 'wrong-password' } } })),
    );
    const checked = results.filter((r) => errorCode(r) === 'UNAUTHENTICATED').length;
    const throttled = results.filter((r) => errorCode(r) === 'RATE_LIMITED');
    // Every answer is one or the other; only the first five reach Argon2 (LOGIN_MAX_FAILURES).
    expect(checked + throttled.length).toBe(60);
    expect(checked).toBeLessThanOrEqual(5);
    expect(throttled[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
    // The right password is locked out too, and gets no token.
    const right = await graphql(stack.routerUrl, 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }', { variables: { i: { email, password: 'long-enough-pw' } } });
    expect(errorCode(right)).toBe('RATE_LIMITED');
  });

  it('refuses a subgraph request signed with another service’s key, and a replayed one', async () => {
    const payments = createRequestSigner('payments', [stack.env.PAYMENTS_SIGNING_KEYS!]);
    const asRouterWithPaymentsKey = createRequestSigner('router', [stack.env.PAYMENTS_SIGNING_KEYS!]);
    const users = `${stack.urls.users}/graphql`;
    expect((await signedSubgraphRequest(users, { signer: asRouterWithPaymentsKey, audience: 'users' }, '{ __typename }')).status).toBe(403);
    // payments may ask users for names, not list users.
    expect((await signedSubgraphRequest(users, { signer: payments, audience: 'users' }, '{ users(first: 1) { totalCount } }')).status).toBe(403);

    const router = createRequestSigner('router', [stack.env.ROUTER_SIGNING_KEYS!]);
    const request = signSubgraphRequest(users, { signer: router, audience: 'users' }, '{ __typename }');
    expect((await postRaw(users, request)).status).toBe(200);
    // The same signed request again, to the same process: its id was seen (Redis holds it for every instance).
    expect((await postRaw(users, request)).status).toBe(403);
  });

  it('refuses control characters in inputs with BAD_USER_INPUT and writes nothing', async () => {
    const r = await graphql(stack.routerUrl, SIGN_UP, { variables: { input: { email: `nul-${randomUUID()}@campus.test`, password: 'long-enough-pw', name: 'Bad\u0000Name' } } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.field).toBe('input.name');
    const { accessToken } = await logIn(stack.routerUrl, student!.email, DEMO_PASSWORD);
    const search = await graphql(stack.routerUrl, '{ courses(first: 1, filter: { search: "a\u0000b" }) { totalCount } }', { token: accessToken });
    expect(errorCode(search)).toBe('BAD_USER_INPUT');
  });
});
