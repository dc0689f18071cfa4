/**
 * Accounts end to end: a client talking to the router over HTTP, the users subgraph behind it on a
 * real database, real Argon2 and real JWT verification at both hops.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { createRequestSigner, generateServiceKeyPem } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import { errorCode, graphql, LOG_IN, logIn, signedSubgraphRequest } from '@campus/test-kit';
import { startTestStack, type TestStack } from '@campus/stack/testing';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { accessToken refreshToken user { id email name role } }
  }
`;
const REFRESH = /* GraphQL */ `
  mutation Refresh($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken user { id } } }
`;
const ME = '{ me { id name email role createdAt } }';

const [admin, instructor, student] = DEMO_ACCOUNTS;

describe('accounts through the router', () => {
  let stack: TestStack;
  let url: string;

  beforeAll(async () => {
    // TRUST_PROXY: the address-throttling test plays a local proxy forwarding other clients' addresses.
    stack = await startTestStack({ env: { LOGIN_MAX_FAILURES: '3', TRUST_PROXY: 'loopback' } });
    url = stack.routerUrl;
  });
  afterAll(() => stack?.close());

  it('signs up a student, returns a working session, and shows the new user their own email', async () => {
    const r = await graphql(url, SIGN_UP, { variables: { input: { email: '  New.Learner@Example.com ', password: 'long-enough-pw', name: 'New Learner' } } });
    expect(r.errors).toBeUndefined();
    const { accessToken, user } = r.data.signUp;
    expect(user).toMatchObject({ email: 'new.learner@example.com', name: 'New Learner', role: 'STUDENT' });
    const me = await graphql(url, ME, { token: accessToken });
    expect(me.data.me).toMatchObject({ id: user.id, email: 'new.learner@example.com', role: 'STUDENT' });
  });

  it('issues EdDSA access tokens with kid, issuer, audience and a short expiry, verifiable with the published JWKS', async () => {
    const { accessToken } = await logIn(url, student.email, DEMO_PASSWORD);
    const header = decodeProtectedHeader(accessToken);
    const claims = decodeJwt(accessToken);
    const jwks = (await (await fetch(`${stack.urls.users}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(header.alg).toBe('EdDSA');
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(claims).toMatchObject({ iss: 'campus-users', aud: 'campus', sub: student.id, role: 'STUDENT' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(900);
  });

  it('treats emails case-insensitively: a duplicate in another case is a CONFLICT', async () => {
    const r = await graphql(url, SIGN_UP, { variables: { input: { email: 'STUDENT@campus.test', password: 'long-enough-pw', name: 'Dup' } } });
    expect(errorCode(r)).toBe('CONFLICT');
    expect(r.data).toBeNull();
    // Logging in with any letter case works.
    expect((await logIn(url, 'Student@Campus.TEST', DEMO_PASSWORD)).user.id).toBe(student.id);
  });

  it.each([
    [{ email: 'not-an-email', password: 'long-enough-pw', name: 'X' }, 'input.email'],
    [{ email: 'short@pw.test', password: 'short', name: 'X' }, 'input.password'],
    [{ email: 'noname@x.test', password: 'long-enough-pw', name: '   ' }, 'input.name'],
  ])('refuses bad sign-up input %o with BAD_USER_INPUT naming %s, creating nothing', async (input, field) => {
    const r = await graphql(url, SIGN_UP, { variables: { input } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.extensions!.field).toBe(field);
    const admin = await logIn(url, DEMO_ACCOUNTS[0].email, DEMO_PASSWORD);
    const found = await graphql(url, 'query($s: String) { users(search: $s) { totalCount } }', { token: admin.accessToken, variables: { s: input.email } });
    expect(found.data.users.totalCount).toBe(0);
  });

  it('refuses a wrong password with the same message as an unknown email', async () => {
    const wrong = await graphql(url, LOG_IN, { variables: { input: { email: instructor.email, password: 'nope-nope' } } });
    const unknown = await graphql(url, LOG_IN, { variables: { input: { email: 'nobody@campus.test', password: 'nope-nope' } } });
    expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
    expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
  });

  it('answers me with null for anonymous requests and refuses a tampered token', async () => {
    expect((await graphql(url, ME)).data).toEqual({ me: null });
    const { accessToken } = await logIn(url, student.email, DEMO_PASSWORD);
    const [h, p, s] = accessToken.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(accessToken), role: 'ADMIN' })).toString('base64url');
    const r = await graphql(url, ME, { token: `${h}.${forged}.${s}` });
    expect(r.status).toBe(401);
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
    expect(p).not.toBe(forged);
  });

  describe('roles', () => {
    it('lets admins list and search users, and refuses students and instructors with FORBIDDEN', async () => {
      const a = await logIn(url, admin.email, DEMO_PASSWORD);
      const list = await graphql(url, '{ users(first: 2) { totalCount edges { node { email } } pageInfo { hasNextPage } } }', { token: a.accessToken });
      expect(list.data.users.edges).toHaveLength(2);
      expect(list.data.users.totalCount).toBeGreaterThanOrEqual(3);
      for (const who of [student, instructor]) {
        const t = await logIn(url, who.email, DEMO_PASSWORD);
        const r = await graphql(url, '{ users { totalCount } }', { token: t.accessToken });
        expect(errorCode(r)).toBe('FORBIDDEN');
        const one = await graphql(url, 'query($id: ID!) { user(id: $id) { name } }', { token: t.accessToken, variables: { id: admin.id } });
        expect(errorCode(one)).toBe('FORBIDDEN');
      }
      expect(errorCode(await graphql(url, '{ users { totalCount } }'))).toBe('UNAUTHENTICATED');
    });

    it('lets only admins change roles, and ends the changed user’s sessions', async () => {
      const SET_ROLE = 'mutation($id: ID!, $r: Role!) { setUserRole(input: { userId: $id, role: $r }) { user { id role } } }';
      const newbie = (await graphql(url, SIGN_UP, { variables: { input: { email: 'future.teacher@x.test', password: 'long-enough-pw', name: 'T' } } })).data.signUp;
      const s = await logIn(url, student.email, DEMO_PASSWORD);
      expect(errorCode(await graphql(url, SET_ROLE, { token: s.accessToken, variables: { id: newbie.user.id, r: 'ADMIN' } }))).toBe('FORBIDDEN');

      const a = await logIn(url, admin.email, DEMO_PASSWORD);
      const r = await graphql(url, SET_ROLE, { token: a.accessToken, variables: { id: newbie.user.id, r: 'INSTRUCTOR' } });
      expect(r.data.setUserRole.user.role).toBe('INSTRUCTOR');
      // The old refresh token carried the old role's session: it no longer works.
      expect(errorCode(await graphql(url, REFRESH, { variables: { t: newbie.refreshToken } }))).toBe('UNAUTHENTICATED');
      const again = await logIn(url, 'future.teacher@x.test', 'long-enough-pw');
      expect(decodeJwt(again.accessToken).role).toBe('INSTRUCTOR');

      const bad = await graphql(url, SET_ROLE, { token: a.accessToken, variables: { id: 'not-a-uuid', r: 'ADMIN' } });
      expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    });
  });

  describe('refresh tokens', () => {
    it('rotates on every use; reusing a rotated token revokes the whole family', async () => {
      const first = await logIn(url, instructor.email, DEMO_PASSWORD);
      const second = (await graphql(url, REFRESH, { variables: { t: first.refreshToken } })).data.refreshSession;
      expect(second.refreshToken).not.toBe(first.refreshToken);
      const third = (await graphql(url, REFRESH, { variables: { t: second.refreshToken } })).data.refreshSession;
      expect(third.user.id).toBe(instructor.id);

      // An attacker replays the first token: refused, and the family is gone for everyone.
      const replay = await graphql(url, REFRESH, { variables: { t: first.refreshToken } });
      expect(errorCode(replay)).toBe('UNAUTHENTICATED');
      expect(replay.errors![0]!.message).toMatch(/already used/);
      expect(errorCode(await graphql(url, REFRESH, { variables: { t: third.refreshToken } }))).toBe('UNAUTHENTICATED');

      // Another login is an independent family and still works.
      const other = await logIn(url, instructor.email, DEMO_PASSWORD);
      expect((await graphql(url, REFRESH, { variables: { t: other.refreshToken } })).data.refreshSession.user.id).toBe(instructor.id);
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const s = await logIn(url, instructor.email, DEMO_PASSWORD);
      const results = await Promise.all([1, 2].map(() => graphql(url, REFRESH, { variables: { t: s.refreshToken } })));
      expect(results.filter((r) => r.data?.refreshSession).length).toBe(1);
    });

    it('ends a session on logOut', async () => {
      const s = await logIn(url, student.email, DEMO_PASSWORD);
      const out = await graphql(url, 'mutation($t: String!) { logOut(input: { refreshToken: $t }) { success } }', { variables: { t: s.refreshToken } });
      expect(out.data.logOut.success).toBe(true);
      expect(errorCode(await graphql(url, REFRESH, { variables: { t: s.refreshToken } }))).toBe('UNAUTHENTICATED');
    });
  });

  describe('profile and password', () => {
    it('updates the own profile and changes the password, signing out other sessions', async () => {
      const email = 'changer@x.test';
      const created = (await graphql(url, SIGN_UP, { variables: { input: { email, password: 'first-password', name: 'Changer' } } })).data.signUp;
      const other = await logIn(url, email, 'first-password');
      const upd = await graphql(url, 'mutation { updateProfile(input: { name: "Renamed" }) { user { name } } }', { token: created.accessToken });
      expect(upd.data.updateProfile.user.name).toBe('Renamed');

      const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) { user { id } } }';
      const wrong = await graphql(url, CHANGE, { token: created.accessToken, variables: { c: 'not-it', n: 'second-password' } });
      expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
      expect(wrong.errors![0]!.extensions!.field).toBe('input.currentPassword');
      const ok = await graphql(url, CHANGE, { token: created.accessToken, variables: { c: 'first-password', n: 'second-password' } });
      expect(ok.errors).toBeUndefined();
      expect(errorCode(await graphql(url, REFRESH, { variables: { t: other.refreshToken } }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await graphql(url, LOG_IN, { variables: { input: { email, password: 'first-password' } } }))).toBe('UNAUTHENTICATED');
      expect((await logIn(url, email, 'second-password')).user.email).toBe(email);
      expect(errorCode(await graphql(url, 'mutation { updateProfile(input: { name: "x" }) { user { name } } }'))).toBe('UNAUTHENTICATED');
    });
  });

  describe('login throttling', () => {
    it('locks an account after repeated failures with RATE_LIMITED saying when to retry, even for the right password', async () => {
      const email = 'throttled@x.test';
      await graphql(url, SIGN_UP, { variables: { input: { email, password: 'right-password', name: 'T' } } });
      for (let i = 0; i < 3; i++) {
        const r = await graphql(url, LOG_IN, { variables: { input: { email, password: `wrong-${i}` } } });
        expect(errorCode(r)).toBe('UNAUTHENTICATED');
      }
      const locked = await graphql(url, LOG_IN, { variables: { input: { email, password: 'right-password' } } });
      expect(errorCode(locked)).toBe('RATE_LIMITED');
      expect(locked.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
      expect(locked.errors![0]!.message).toMatch(/Try again in \d+ seconds/);
      // Other accounts are unaffected.
      expect((await logIn(url, student.email, DEMO_PASSWORD)).user.id).toBe(student.id);
    });

    it('throttles a client address that guesses across many accounts', async () => {
      // Per-address limit is 4x the per-account one (3) = 12 failures; spread over accounts so no account locks first.
      const ip = { 'x-forwarded-for': '203.0.113.7' };
      for (let i = 0; i < 12; i++) {
        const r = await graphql(url, LOG_IN, { variables: { input: { email: `spray${i}@x.test`, password: 'guess' } }, headers: ip });
        expect(errorCode(r)).toBe('UNAUTHENTICATED');
      }
      const blocked = await graphql(url, LOG_IN, { variables: { input: { email: student.email, password: DEMO_PASSWORD } }, headers: ip });
      expect(errorCode(blocked)).toBe('RATE_LIMITED');
      // The same account from another address still logs in.
      expect((await logIn(url, student.email, DEMO_PASSWORD)).user.id).toBe(student.id);
    });
  });

  describe('zero trust', () => {
    it('refuses direct subgraph calls that are not signed by the router', async () => {
      const direct = await graphql(`${stack.urls.users}/graphql`, ME);
      expect(direct.status).toBe(403);
      expect(errorCode(direct)).toBe('FORBIDDEN');
      // Signed in the router's name with a key that is not the router's.
      const impostor = createRequestSigner(ROUTER_ISSUER, [generateServiceKeyPem()]);
      const forged = await signedSubgraphRequest(`${stack.urls.users}/graphql`, { signer: impostor, audience: 'users' }, ME);
      expect(forged.status).toBe(403);
    });
  });
});
