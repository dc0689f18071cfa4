/**
 * Sessions in access tokens, end to end (docs/identity/sessions.md): a client talking to the router
 * over HTTP and graphql-ws, the router and every subgraph verifying tokens themselves against one
 * revocation store, the users service judging admin operations by the role an account has now.
 * Tokens signed "by hand" use the users service's real key (USERS_JWT_PRIVATE_KEY), as an attacker
 * holding a leaked key-signed token would present them.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, REQUIRED_CLAIMS } from '@campus/kit/identity';
import { connectWs, errorCode, graphql, type GraphQLResponse, logIn, signedSubgraphRequest, waitFor, within, type WsConnection } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { SignJWT, type JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UsersService } from '@campus/users/service';
import { loadSigningKeys, type SigningKeys } from '@campus/users/signing-keys';

const SESSION_EVENTS = 'subscription { mySessionEvents { reason reauthenticate role } }';
const SET_ROLE = 'mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { user { id role } } }';
const REVOKE = 'mutation($input: RevokeSessionsInput!) { revokeSessions(input: $input) { revokedSessionCount user { id } } }';
const REFRESH = 'mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken } }';
const LIST_USERS = '{ users(first: 1) { totalCount } }';
const ME = '{ me { id role } }';
const SUBGRAPHS = ['users', 'courses', 'payments'] as const;
const PASSWORD = 'long-enough-pw';

const [demoAdmin] = DEMO_ACCOUNTS;

interface Account {
  id: string;
  email: string;
  accessToken: string;
  refreshToken: string;
}

describe('sessions in access tokens, through the router', () => {
  let stack: TestStack;
  let url: string;
  let adminToken: string;
  let keys: SigningKeys;
  const sockets: WsConnection[] = [];
  let counter = 0;

  beforeAll(async () => {
    // The users service's real signing key, known to the test so it can sign malformed tokens with
    // it: the shared stack is given one and shows it (keys.usersJwt).
    stack = await sharedTestStack();
    keys = await loadSigningKeys({ pem: stack.keys.usersJwt! });
    url = stack.routerUrl;
    adminToken = (await logIn(url, demoAdmin.email, DEMO_PASSWORD)).accessToken;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  /** A new account with `role`: signed up, promoted by the demo admin, then logged in (a session with the role in its token). */
  async function newAccount(role: 'STUDENT' | 'INSTRUCTOR' | 'ADMIN' = 'STUDENT'): Promise<Account> {
    const email = `session-${process.pid}-${++counter}@campus.test`;
    const up = await graphql(url, 'mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }', {
      variables: { i: { email, password: PASSWORD, name: `Session ${counter}` } },
    });
    const id = up.data.signUp.user.id as string;
    if (role !== 'STUDENT') await setRole(adminToken, id, role);
    const session = await logIn(url, email, PASSWORD);
    return { id, email, accessToken: session.accessToken, refreshToken: session.refreshToken };
  }

  async function setRole(token: string, userId: string, role: string) {
    return graphql(url, SET_ROLE, { token, variables: { input: { userId, role } } });
  }

  /** The users service's own database client: the stack runs the service in this process. */
  const usersPrisma = () => (stack.services.users as unknown as UsersService).prisma;

  /** A request straight to a subgraph, signed as the router signs it, carrying `token`. */
  function atSubgraph(name: (typeof SUBGRAPHS)[number], token: string, query = '{ __typename }'): Promise<GraphQLResponse> {
    return signedSubgraphRequest(`${stack.urls[name]}/graphql`, { signer: stack.signers.router, audience: name }, query, { token });
  }

  /** Refused as UNAUTHENTICATED by the router (401) and by every subgraph, with why the session ended. */
  async function expectRefusedEverywhere(token: string, sessionEnded?: string) {
    const atRouter = await graphql(url, ME, { token });
    expect(atRouter.status).toBe(401);
    expect(atRouter.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', ...(sessionEnded ? { sessionEnded } : {}) });
    for (const name of SUBGRAPHS) {
      const r = await atSubgraph(name, token);
      expect(r.data ?? null, name).toBeNull();
      expect(r.errors?.[0]?.extensions, name).toMatchObject({ code: 'UNAUTHENTICATED', ...(sessionEnded ? { sessionEnded } : {}) });
    }
  }

  async function expectAcceptedEverywhere(token: string) {
    expect((await graphql(url, ME, { token })).errors).toBeUndefined();
    for (const name of SUBGRAPHS) expect((await atSubgraph(name, token)).errors, name).toBeUndefined();
  }

  /** A live `mySessionEvents` subscription through the router, for `token`. */
  async function sessionEvents(token: string) {
    const before = stack.services.users!.server.liveSubscriptions().subscriptions;
    const connection = await connectWs(url, { token });
    sockets.push(connection);
    const events = connection.subscribe(SESSION_EVENTS);
    await waitFor(() => stack.services.users!.server.liveSubscriptions().subscriptions > before, 'the subscription to be live in users');
    return { connection, events };
  }

  /** Signs a token with the users service's key: a well-formed access token unless `claims`/`omit` say otherwise. */
  function sign(claims: JWTPayload = {}, omit: string[] = []) {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      sub: randomUUID(),
      sid: randomUUID(),
      role: 'ADMIN',
      iat: now,
      exp: now + 600,
      ...claims,
    };
    for (const claim of omit) delete payload[claim];
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: 'JWT' }).sign(keys.privateKey);
  }

  describe('a demoted admin', () => {
    it('loses the old token at once at the router and every subgraph, and its subscription closes with 4403 after saying why', async () => {
      const demoted = await newAccount('ADMIN');
      await expectAcceptedEverywhere(demoted.accessToken);
      const { connection, events } = await sessionEvents(demoted.accessToken);

      expect((await setRole(adminToken, demoted.id, 'INSTRUCTOR')).errors).toBeUndefined();

      // No waiting: the revocation is recorded before setUserRole answers.
      await expectRefusedEverywhere(demoted.accessToken, 'ROLE_CHANGED');
      expect(errorCode(await graphql(url, LIST_USERS, { token: demoted.accessToken }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await setRole(demoted.accessToken, demoted.id, 'ADMIN'))).toBe('UNAUTHENTICATED');
      expect(errorCode(await setRole(demoted.accessToken, DEMO_ACCOUNTS[2].id, 'ADMIN'))).toBe('UNAUTHENTICATED');

      expect((await events.nth(0, 1_000)).data).toEqual({ mySessionEvents: { reason: 'ROLE_CHANGED', reauthenticate: true, role: 'INSTRUCTOR' } });
      expect(await within(connection.closed, 1_000, 'the socket to close')).toBe(4403);
      expect(events.results).toHaveLength(1);

      const stored = await graphql(url, 'query($id: ID!) { user(id: $id) { role } }', { token: adminToken, variables: { id: demoted.id } });
      expect(stored.data.user.role).toBe('INSTRUCTOR');
    });

    it('cannot use admin operations with a fresh token either, on any subgraph', async () => {
      const demoted = await newAccount('ADMIN');
      await setRole(adminToken, demoted.id, 'INSTRUCTOR');
      const { accessToken } = await logIn(url, demoted.email, PASSWORD);

      expect(errorCode(await setRole(accessToken, demoted.id, 'ADMIN'))).toBe('FORBIDDEN');
      expect(errorCode(await graphql(url, LIST_USERS, { token: accessToken }))).toBe('FORBIDDEN');
      expect(errorCode(await graphql(url, REVOKE, { token: accessToken, variables: { input: { userId: demoAdmin.id } } }))).toBe('FORBIDDEN');
      const enroll = await graphql(url, 'mutation($i: AdminEnrollInput!) { adminEnroll(input: $i) { enrollment { id } } }', {
        token: accessToken,
        variables: { i: { userId: demoted.id, courseId: randomUUID() } },
      });
      expect(errorCode(enroll)).toBe('FORBIDDEN');
      const refund = await graphql(url, 'mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { payment { id } } }', {
        token: accessToken,
        variables: { i: { paymentId: randomUUID() } },
      });
      expect(errorCode(refund)).toBe('FORBIDDEN');
    });
  });

  describe('fresh authority', () => {
    it('judges admin operations by the role the account has now, even with a genuine token whose role claim is stale', async () => {
      const stale = await newAccount('ADMIN');
      // The role changes behind the token's back, as if its revocation had been lost: the token still says ADMIN.
      await usersPrisma().user.update({ where: { id: stale.id }, data: { role: 'INSTRUCTOR' } });
      expect((await graphql(url, ME, { token: stale.accessToken })).data.me).toEqual({ id: stale.id, role: 'INSTRUCTOR' });

      expect(errorCode(await graphql(url, LIST_USERS, { token: stale.accessToken }))).toBe('FORBIDDEN');
      expect(errorCode(await setRole(stale.accessToken, stale.id, 'ADMIN'))).toBe('FORBIDDEN');
      const victim = await newAccount();
      expect(errorCode(await setRole(stale.accessToken, victim.id, 'ADMIN'))).toBe('FORBIDDEN');
      expect(errorCode(await graphql(url, REVOKE, { token: stale.accessToken, variables: { input: { userId: victim.id } } }))).toBe('FORBIDDEN');

      const roles = await graphql(url, 'query($a: ID!, $b: ID!) { a: user(id: $a) { role } b: user(id: $b) { role } }', {
        token: adminToken,
        variables: { a: stale.id, b: victim.id },
      });
      expect(roles.data).toEqual({ a: { role: 'INSTRUCTOR' }, b: { role: 'STUDENT' } });
      await expectAcceptedEverywhere(victim.accessToken);
    });

    it('lets only one of two admins who demote each other at the same moment succeed', async () => {
      const [a, b] = [await newAccount('ADMIN'), await newAccount('ADMIN')];
      const results = await Promise.all([setRole(a.accessToken, b.id, 'STUDENT'), setRole(b.accessToken, a.id, 'STUDENT')]);
      expect(results.filter((r) => r.data?.setUserRole).length).toBe(1);
      expect(results.map(errorCode).filter(Boolean)).toHaveLength(1);
      const roles = await graphql(url, 'query($a: ID!, $b: ID!) { a: user(id: $a) { role } b: user(id: $b) { role } }', {
        token: adminToken,
        variables: { a: a.id, b: b.id },
      });
      expect([roles.data.a.role, roles.data.b.role].sort()).toEqual(['ADMIN', 'STUDENT']);
    });
  });

  describe('ending a session ends its access tokens', () => {
    it('on logOut, leaving the account’s other sessions alone', async () => {
      const user = await newAccount();
      const other = await logIn(url, user.email, PASSWORD);
      const out = await graphql(url, 'mutation($t: String!) { logOut(input: { refreshToken: $t }) { success } }', { variables: { t: user.refreshToken } });
      expect(out.data.logOut.success).toBe(true);
      await expectRefusedEverywhere(user.accessToken, 'LOGGED_OUT');
      await expectAcceptedEverywhere(other.accessToken);
    });

    it('on refresh-token reuse, including the access tokens issued by the refresh', async () => {
      const user = await newAccount();
      const refreshed = (await graphql(url, REFRESH, { variables: { t: user.refreshToken } })).data.refreshSession;
      await expectAcceptedEverywhere(refreshed.accessToken);
      expect(errorCode(await graphql(url, REFRESH, { variables: { t: user.refreshToken } }))).toBe('UNAUTHENTICATED');
      await expectRefusedEverywhere(user.accessToken, 'REFRESH_TOKEN_REUSED');
      await expectRefusedEverywhere(refreshed.accessToken, 'REFRESH_TOKEN_REUSED');
    });

    it('on a password change, except in the session that changed it', async () => {
      const user = await newAccount();
      const other = await logIn(url, user.email, PASSWORD);
      const changed = await graphql(url, 'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { user { id } } }', {
        token: user.accessToken,
        variables: { i: { currentPassword: PASSWORD, newPassword: 'another-long-pw' } },
      });
      expect(changed.errors).toBeUndefined();
      await expectRefusedEverywhere(other.accessToken, 'PASSWORD_CHANGED');
      await expectAcceptedEverywhere(user.accessToken);
    });

    it('when an admin revokes them: every session, open subscriptions told why and closed with 4403', async () => {
      const user = await newAccount();
      const second = await logIn(url, user.email, PASSWORD);
      const { connection, events } = await sessionEvents(second.accessToken);

      expect(errorCode(await graphql(url, REVOKE, { token: user.accessToken, variables: { input: { userId: user.id } } }))).toBe('FORBIDDEN');
      const r = await graphql(url, REVOKE, { token: adminToken, variables: { input: { userId: user.id } } });
      // signUp's session, newAccount's logIn and the second logIn.
      expect(r.data.revokeSessions).toEqual({ revokedSessionCount: 3, user: { id: user.id } });

      await expectRefusedEverywhere(user.accessToken, 'REVOKED_BY_ADMIN');
      await expectRefusedEverywhere(second.accessToken, 'REVOKED_BY_ADMIN');
      expect(errorCode(await graphql(url, REFRESH, { variables: { t: second.refreshToken } }))).toBe('UNAUTHENTICATED');
      expect((await events.nth(0, 1_000)).data).toEqual({ mySessionEvents: { reason: 'REVOKED_BY_ADMIN', reauthenticate: true, role: null } });
      expect(await within(connection.closed, 1_000, 'the socket to close')).toBe(4403);
      // Logging in again starts a new session that works.
      await expectAcceptedEverywhere((await logIn(url, user.email, PASSWORD)).accessToken);
    });
  });

  describe('tokens not as the users service issues them', () => {
    it('accepts a well-formed token signed with the real key (the baseline of the cases below)', async () => {
      const user = await newAccount();
      // A real session id: the users service checks that the session exists.
      const { sid } = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
      await expectAcceptedEverywhere(await sign({ sub: user.id, sid, role: 'STUDENT' }));
    });

    it.each(REQUIRED_CLAIMS)('refuses a token signed with the real key but without "%s", at the router and every subgraph', async (claim) => {
      await expectRefusedEverywhere(await sign({}, [claim]));
    });

    it('refuses a token claiming a lifetime over the maximum', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRefusedEverywhere(await sign({ iat: now, exp: now + 3_601 }));
    });

    it('closes a WebSocket opened with a token without exp with 4403 before any operation', async () => {
      const connection = await connectWs(url, { token: await sign({}, ['exp']) });
      sockets.push(connection);
      expect(await within(connection.closed, 5_000, 'the close')).toBe(4403);
    });

    it('refuses, in the users service, the token of a user who does not exist', async () => {
      const token = await sign({ role: 'ADMIN' });
      const me = await graphql(url, ME, { token });
      expect(me.data?.me ?? null).toBeNull();
      expect(errorCode(me)).toBe('UNAUTHENTICATED');
      expect(errorCode(await graphql(url, LIST_USERS, { token }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await atSubgraph('users', token))).toBe('UNAUTHENTICATED');
    });

    it('refuses, in the users service, the token of a deleted account', async () => {
      const user = await newAccount();
      await expectAcceptedEverywhere(user.accessToken);
      // There is no deletion mutation; the row goes as an operator (or a future mutation) would remove it.
      await usersPrisma().user.delete({ where: { id: user.id } });
      const me = await graphql(url, ME, { token: user.accessToken });
      expect(me.data?.me ?? null).toBeNull();
      expect(errorCode(me)).toBe('UNAUTHENTICATED');
      expect(errorCode(await atSubgraph('users', user.accessToken))).toBe('UNAUTHENTICATED');
    });
  });
});
