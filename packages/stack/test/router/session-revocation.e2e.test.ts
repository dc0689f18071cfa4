/**
 * Two router instances sharing revocations through Redis, as behind a load balancer: a session
 * ended through instance A (the stack's router and services) is refused by instance B, which has
 * its own Redis connections, on HTTP at once and on its open WebSockets (4403 after
 * `mySessionEvents` says why). Skipped without TEST_REDIS_URL: in process, instances share nothing.
 */
import { randomBytes } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { connectWs, graphql, logIn, waitFor, within, type WsConnection } from '@campus/test-kit';
import { startSecondRouter, startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const redisUrl = process.env.TEST_REDIS_URL;
const ME = '{ me { id } }';

describe.skipIf(!redisUrl)('session revocations across two router instances (Redis)', () => {
  const sessionsPrefix = `campus-test-${randomBytes(6).toString('hex')}:sessions:`;
  let stack: TestStack;
  let routerB: Awaited<ReturnType<typeof startSecondRouter>>;
  let urlB: string;
  let adminToken: string;
  const sockets: WsConnection[] = [];
  let counter = 0;

  beforeAll(async () => {
    stack = await startTestStack({ env: { REDIS_SESSIONS_PREFIX: sessionsPrefix } });
    routerB = await startSecondRouter(stack, { REDIS_URL: redisUrl, REDIS_SESSIONS_PREFIX: sessionsPrefix });
    urlB = routerB.url;
    adminToken = (await logIn(stack.routerUrl, DEMO_ACCOUNTS[0].email, DEMO_PASSWORD)).accessToken;
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await routerB?.stop();
    await stack?.close();
  });

  const newUser = async () => {
    const email = `fanout-${process.pid}-${++counter}@campus.test`;
    const r = await graphql(stack.routerUrl, 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken user { id } } }', {
      variables: { i: { email, password: 'long-enough-pw', name: `Fanout ${counter}` } },
    });
    return r.data.signUp as { accessToken: string; refreshToken: string; user: { id: string } };
  };

  it('refuses at instance B, at once, a session logged out through instance A', async () => {
    const user = await newUser();
    expect((await graphql(urlB, ME, { token: user.accessToken })).data.me.id).toBe(user.user.id);
    const out = await graphql(stack.routerUrl, 'mutation($t: String!) { logOut(input: { refreshToken: $t }) { success } }', { variables: { t: user.refreshToken } });
    expect(out.data.logOut.success).toBe(true);
    const refused = await graphql(urlB, ME, { token: user.accessToken });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', sessionEnded: 'LOGGED_OUT' });
  });

  it('closes the WebSocket held by instance B with 4403, after mySessionEvents, when a role change goes through instance A', async () => {
    const user = await newUser();
    const before = stack.services.users!.server.liveSubscriptions().subscriptions;
    const connection = await connectWs(urlB, { token: user.accessToken });
    sockets.push(connection);
    const events = connection.subscribe('subscription { mySessionEvents { reason reauthenticate } }');
    await waitFor(() => stack.services.users!.server.liveSubscriptions().subscriptions > before, 'the subscription to be live in users');

    const r = await graphql(stack.routerUrl, 'mutation($i: SetUserRoleInput!) { setUserRole(input: $i) { user { role } } }', {
      token: adminToken,
      variables: { i: { userId: user.user.id, role: 'INSTRUCTOR' } },
    });
    expect(r.errors).toBeUndefined();
    expect((await events.nth(0, 1_000)).data).toEqual({ mySessionEvents: { reason: 'ROLE_CHANGED', reauthenticate: true } });
    expect(await within(connection.closed, 1_000, 'instance B to close the socket')).toBe(4403);
    expect((await graphql(urlB, ME, { token: user.accessToken })).status).toBe(401);
  });
});
