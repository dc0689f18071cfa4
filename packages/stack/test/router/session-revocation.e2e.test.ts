/**
 * Two router instances sharing revocations through Redis, as behind a load balancer: a session
 * ended through instance A (the stack's router and services) is refused by instance B, which has
 * its own Redis connections, on HTTP at once and on its open WebSockets (4403 after
 * `mySessionEvents` says why). Skipped without TEST_REDIS_URL: in process, instances share nothing.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLogger, DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { connectWs, graphql, logIn, waitFor, within, type WsConnection } from '@campus/test-kit';
import { startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';

const redisUrl = process.env.TEST_REDIS_URL;
const ME = '{ me { id } }';

describe.skipIf(!redisUrl)('session revocations across two router instances (Redis)', () => {
  const sessionsPrefix = `campus-test-${randomBytes(6).toString('hex')}:sessions:`;
  let stack: TestStack;
  let routerB: Router;
  let urlB: string;
  let adminToken: string;
  const sockets: WsConnection[] = [];
  let counter = 0;

  beforeAll(async () => {
    stack = await startTestStack({ env: { REDIS_SESSIONS_PREFIX: sessionsPrefix } });
    routerB = createRouter(
      loadConfig({
        NODE_ENV: 'test',
        ROUTER_SIGNING_KEYS: stack.keys.router,
        SUPERGRAPH_PATH: stack.supergraphPath,
        JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
        REDIS_URL: redisUrl,
        REDIS_SESSIONS_PREFIX: sessionsPrefix,
        // Its counters would share a prefix with other test files' routers; not what this tests.
        RATE_LIMIT_ENABLED: 'false',
      }),
      { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent') },
    );
    await new Promise<void>((resolve) => routerB.httpServer.listen(0, '127.0.0.1', resolve));
    await routerB.start();
    urlB = `http://127.0.0.1:${(routerB.httpServer.address() as AddressInfo).port}/graphql`;
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
