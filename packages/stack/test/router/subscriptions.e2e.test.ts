/**
 * Federated subscriptions end to end: a graphql-ws client talking to the router over a real
 * WebSocket, the router subscribing to the users subgraph over another, real tokens at both hops.
 * What the subgraph holds open is read on the subgraph's side (its graphql-ws hooks).
 */
import { appendFileSync } from 'node:fs';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { connectWs, graphql, logIn, waitFor, within, type WsConnection } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const SESSION_EVENTS = /* GraphQL */ `
  subscription { mySessionEvents { reason reauthenticate sessionId role occurredAt } }
`;
const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id } } }
`;
const SET_ROLE = /* GraphQL */ `
  mutation SetRole($input: SetUserRoleInput!) { setUserRole(input: $input) { user { id role } } }
`;
const LOG_OUT = /* GraphQL */ `
  mutation LogOut($t: String!) { logOut(input: { refreshToken: $t }) { success } }
`;
const CHANGE_PASSWORD = /* GraphQL */ `
  mutation ChangePassword($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } } }
`;

const admin = DEMO_ACCOUNTS[0];
let counter = 0;

describe('federated subscriptions through the router', () => {
  let stack: TestStack;
  let url: string;
  let adminToken: string;
  const open: WsConnection[] = [];

  /** What the users subgraph's graphql-ws server holds open right now. */
  const upstream = () => stack.services.users!.server.liveSubscriptions();

  const connect = async (token?: string) => {
    const connection = await connectWs(url, { token });
    open.push(connection);
    return connection;
  };

  /** A fresh account per test, so role changes and logouts never leak between tests. */
  const newUser = async () => {
    const email = `live-${process.pid}-${++counter}@campus.test`;
    const r = await graphql(url, SIGN_UP, { variables: { input: { email, password: 'long-enough-pw', name: `Live ${counter}` } } });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return { email, ...r.data.signUp } as { email: string; accessToken: string; refreshToken: string; user: { id: string } };
  };

  /** Waits until the subgraph has `n` live subscriptions: from then on, events reach them. */
  const subgraphHas = (n: number) => waitFor(() => upstream().subscriptions === n, `${n} live subscriptions in the users subgraph`);
  /**
   * Waits until the router runs `clients` subscriptions on `n` live upstream ones: identical
   * subscriptions with one token share one (router/src/subscriptions/shared-subscriptions.ts).
   */
  const sharedBy = (clients: number, n = 1) =>
    waitFor(() => stack.router.subscriptionStats().subscriptions === clients && upstream().subscriptions === n, `${clients} subscriptions on ${n} upstream`);

  beforeAll(async () => {
    stack = await sharedTestStack();
    url = stack.routerUrl;
    // The worker's shared stack: what earlier files opened must be gone before these counts mean anything.
    await waitFor(() => {
      const router = stack.router.subscriptionStats();
      return upstream().subscriptions === 0 && upstream().sockets === 0 && router.connections === 0 && router.upstreamSockets === 0;
    }, 'the sockets of earlier files on the shared stack to close');
    adminToken = (await logIn(url, admin.email, DEMO_PASSWORD)).accessToken;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await waitFor(() => upstream().sockets === 0 && stack.router.subscriptionStats().upstreamSockets === 0, 'upstream sockets to close');
  });

  it("delivers a role change to the user's own subscription and nothing to another user's", async () => {
    const [target, bystander] = [await newUser(), await newUser()];
    const targetSub = (await connect(target.accessToken)).subscribe(SESSION_EVENTS);
    const bystanderSub = (await connect(bystander.accessToken)).subscribe(SESSION_EVENTS);
    await subgraphHas(2);

    const r = await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: target.user.id, role: 'INSTRUCTOR' } } });
    expect(r.errors).toBeUndefined();

    const event = await targetSub.nth(0);
    expect(event.errors).toBeUndefined();
    expect(event.data.mySessionEvents).toMatchObject({ reason: 'ROLE_CHANGED', reauthenticate: true, role: 'INSTRUCTOR', sessionId: null });
    // A later event for the bystander proves their stream was live and got nothing before it.
    await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: bystander.user.id, role: 'INSTRUCTOR' } } });
    expect((await bystanderSub.nth(0)).data.mySessionEvents.reason).toBe('ROLE_CHANGED');
    expect(bystanderSub.results).toHaveLength(1);
    expect(targetSub.results).toHaveLength(1);
  });

  it('tells only the session that logged out to re-authenticate', async () => {
    const user = await newUser();
    const second = await logIn(url, user.email, 'long-enough-pw');
    const first = (await connect(user.accessToken)).subscribe(SESSION_EVENTS);
    const other = (await connect(second.accessToken)).subscribe(SESSION_EVENTS);
    await subgraphHas(2);

    expect((await graphql(url, LOG_OUT, { token: user.accessToken, variables: { t: user.refreshToken } })).data.logOut.success).toBe(true);

    const [a, b] = [await first.nth(0), await other.nth(0)];
    expect(a.data.mySessionEvents).toMatchObject({ reason: 'LOGGED_OUT', reauthenticate: true });
    expect(b.data.mySessionEvents).toMatchObject({ reason: 'LOGGED_OUT', reauthenticate: false });
    expect(a.data.mySessionEvents.sessionId).toBe(b.data.mySessionEvents.sessionId);
  });

  it('tells the other sessions, not the one that changed it, that the password changed', async () => {
    const user = await newUser();
    const second = await logIn(url, user.email, 'long-enough-pw');
    const changer = (await connect(user.accessToken)).subscribe(SESSION_EVENTS);
    const other = (await connect(second.accessToken)).subscribe(SESSION_EVENTS);
    await subgraphHas(2);

    const r = await graphql(url, CHANGE_PASSWORD, {
      token: user.accessToken,
      variables: { input: { currentPassword: 'long-enough-pw', newPassword: 'another-long-pw' } },
    });
    expect(r.errors).toBeUndefined();
    expect((await changer.nth(0)).data.mySessionEvents).toMatchObject({ reason: 'PASSWORD_CHANGED', reauthenticate: false });
    expect((await other.nth(0)).data.mySessionEvents).toMatchObject({ reason: 'PASSWORD_CHANGED', reauthenticate: true });
  });

  it('reports a reused refresh token to the session it ended', async () => {
    const user = await newUser();
    const sub = (await connect(user.accessToken)).subscribe(SESSION_EVENTS);
    await subgraphHas(1);
    const REFRESH = 'mutation R($t: String!) { refreshSession(input: { refreshToken: $t }) { refreshToken } }';
    expect((await graphql(url, REFRESH, { variables: { t: user.refreshToken } })).errors).toBeUndefined();
    expect((await graphql(url, REFRESH, { variables: { t: user.refreshToken } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await sub.nth(0)).data.mySessionEvents).toMatchObject({ reason: 'REFRESH_TOKEN_REUSED', reauthenticate: true });
  });

  it('applies aliases, fragments, variables and directives as a query would', async () => {
    const user = await newUser();
    const sub = (await connect(user.accessToken)).subscribe(
      /* GraphQL */ `
        subscription Live($withRole: Boolean!) { event: mySessionEvents { ...Facts } }
        fragment Facts on SessionEvent { why: reason reauthenticate role @include(if: $withRole) __typename }
      `,
      { withRole: false },
      'Live',
    );
    await subgraphHas(1);
    await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: user.user.id, role: 'INSTRUCTOR' } } });
    expect(await sub.nth(0)).toEqual({ data: { event: { why: 'ROLE_CHANGED', reauthenticate: true, __typename: 'SessionEvent' } } });
  });

  it('refuses an anonymous subscription to a private field with UNAUTHENTICATED and ends it', async () => {
    const sub = (await connect()).subscribe(SESSION_EVENTS);
    const result = await sub.nth(0);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.data ?? null).toBeNull();
    await within(sub.ended, 5_000, 'the refused subscription to end');
    expect(upstream().subscriptions).toBe(0);
  });

  it('closes a connection whose token is bad with 4403 before any subscription', async () => {
    const connection = await connect('not-a-valid-token');
    expect(await within(connection.closed, 5_000, 'the close')).toBe(4403);
    expect(stack.router.subscriptionStats().connections).toBe(0);
  });

  it('answers an invalid subscription with a validation error and opens nothing upstream', async () => {
    const sub = (await connect(adminToken)).subscribe('subscription { noSuchField }');
    const { error } = await within(sub.ended, 5_000, 'the error');
    expect((error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(upstream().sockets).toBe(0);
  });

  it('serves queries and mutations over the same socket', async () => {
    const connection = await connect(adminToken);
    const me = await connection.execute('{ me { id role } }');
    expect(me).toEqual({ data: { me: { id: admin.id, role: 'ADMIN' } } });
  });

  it('closes the upstream subscription and socket when the client unsubscribes', async () => {
    const user = await newUser();
    const connection = await connect(user.accessToken);
    const first = connection.subscribe(SESSION_EVENTS);
    const second = connection.subscribe(SESSION_EVENTS);
    // Identical, with one token: one upstream subscription on one socket.
    await sharedBy(2);
    expect(upstream().sockets).toBe(1);

    first.unsubscribe();
    await waitFor(() => stack.router.subscriptionStats().subscriptions === 1, 'the first to end');
    expect(upstream()).toEqual({ subscriptions: 1, sockets: 1 });
    second.unsubscribe();
    await subgraphHas(0);
    await waitFor(() => upstream().sockets === 0, 'the upstream socket to close');
    expect(stack.router.subscriptionStats()).toMatchObject({ subscriptions: 0, upstreamSockets: 0, connections: 1 });
  });

  it('closes the upstream subscriptions when the client disconnects', async () => {
    const user = await newUser();
    const connection = await connect(user.accessToken);
    connection.subscribe(SESSION_EVENTS);
    connection.subscribe('subscription { mySessionEvents { reason } }');
    await sharedBy(2, 2);
    await connection.close();
    await subgraphHas(0);
    await waitFor(() => upstream().sockets === 0, 'the upstream socket to close');
    await waitFor(() => stack.router.subscriptionStats().connections === 0, 'the router to forget the client');
  });

  it('keeps serving across a supergraph reload and leaves no upstream socket behind', async () => {
    const user = await newUser();
    const connection = await connect(user.accessToken);
    const before = connection.subscribe(SESSION_EVENTS);
    await subgraphHas(1);

    const reloaded = new Promise<void>((resolve) => {
      const stop = stack.router.gateway.onSchemaLoadOrUpdate(() => {
        stop();
        resolve();
      });
    });
    appendFileSync(stack.supergraphPath, `\n# reloaded by a test\n`);
    await within(reloaded, 10_000, 'the supergraph reload');

    // Same subgraph URL, operation and token: it shares the running upstream subscription.
    const after = connection.subscribe(SESSION_EVENTS);
    await sharedBy(2);
    await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: user.user.id, role: 'INSTRUCTOR' } } });
    expect((await before.nth(0)).data.mySessionEvents.reason).toBe('ROLE_CHANGED');
    expect((await after.nth(0)).data.mySessionEvents.reason).toBe('ROLE_CHANGED');

    before.unsubscribe();
    after.unsubscribe();
    await subgraphHas(0);
    await waitFor(() => upstream().sockets === 0 && stack.router.subscriptionStats().upstreamSockets === 0, 'upstream sockets to close');
  });

  it('delivers one update to 100 concurrent subscribers', async () => {
    const user = await newUser();
    const connections = await Promise.all(Array.from({ length: 100 }, () => connect(user.accessToken)));
    const subs = connections.map((c) => c.subscribe(SESSION_EVENTS));
    // One token, one operation: one upstream subscription for all of them.
    await sharedBy(100);

    await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: user.user.id, role: 'INSTRUCTOR' } } });

    const events = await Promise.all(subs.map((s) => s.nth(0)));
    expect(events.every((e) => e.data?.mySessionEvents?.reason === 'ROLE_CHANGED')).toBe(true);
    expect(new Set(events.map((e) => e.data.mySessionEvents.occurredAt)).size).toBe(1);
  });
});
