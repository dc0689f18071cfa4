/**
 * Rate limits through the real router, over HTTP and graphql-ws. One stack of subgraphs; each test
 * starts its own router over it (createRouter, as the stack does) with the limits it needs, so each
 * counts from zero: every client here is 127.0.0.1. The strict-class test runs on the defaults a
 * deployment gets; Redis-backed counters are shown with TEST_REDIS_URL (CI sets it).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLogger, DEMO_ACCOUNTS, DEMO_PASSWORD, type Env } from '@campus/kit/core';
import { connectWs, errorCode, graphql, type GraphQLResponse, LOG_IN, logIn, waitFor, type WsConnection, wsUrl } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';

const defaults = loadConfig({});
const redisUrl = process.env.TEST_REDIS_URL;
const [admin, instructor, student] = DEMO_ACCOUNTS;

const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) { signUp(input: $input) { user { id } } }
`;
const SESSION_EVENTS = /* GraphQL */ `subscription { mySessionEvents { reason } }`;
const USERS_MATCHING = /* GraphQL */ `query Users($s: String) { users(search: $s) { totalCount } }`;

type Extensions = Record<string, any>;
const extensionsOf = (r: GraphQLResponse): Extensions => r.errors?.[0]?.extensions ?? {};

/** What a WebSocket upgrade got: 101 and an open socket, or the HTTP refusal. */
async function upgrade(url: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(wsUrl(url), 'graphql-transport-ws', { headers });
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any; socket?: WebSocket }>((resolve, reject) => {
    socket.once('open', () => resolve({ status: 101, headers: {}, body: undefined, socket }));
    socket.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
    });
    socket.once('error', reject);
  });
}

/** graphql-ws rejects a refused operation with its errors. */
async function refusalOf(result: Promise<unknown>): Promise<Extensions> {
  try {
    await result;
  } catch (errors) {
    return (errors as { extensions?: Extensions }[])[0]?.extensions ?? {};
  }
  throw new Error('The operation was not refused.');
}

describe('rate limits at the router', () => {
  let stack: TestStack;
  let adminToken: string;
  let studentToken: string;
  let instructorToken: string;
  const routers: Router[] = [];
  const sockets: (WsConnection | WebSocket)[] = [];

  /** A router over the stack's subgraphs with `env` on top of what the stack's own router gets. */
  async function startRouter(env: Env): Promise<string> {
    const config = loadConfig({
      NODE_ENV: 'test',
      ROUTER_SIGNING_KEYS: stack.keys.router,
      SUPERGRAPH_PATH: stack.supergraphPath,
      JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      ...env,
    });
    const router = createRouter(config, { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent') });
    routers.push(router);
    await new Promise<void>((resolve) => router.httpServer.listen(0, '127.0.0.1', resolve));
    await router.start();
    return `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}/graphql`;
  }

  const ws = async (url: string, token?: string) => {
    const connection = await connectWs(url, { token });
    sockets.push(connection);
    return connection;
  };

  beforeAll(async () => {
    stack = await sharedTestStack();
    adminToken = (await logIn(stack.routerUrl, admin.email, DEMO_PASSWORD)).accessToken;
    studentToken = (await logIn(stack.routerUrl, student.email, DEMO_PASSWORD)).accessToken;
    instructorToken = (await logIn(stack.routerUrl, instructor.email, DEMO_PASSWORD)).accessToken;
  });

  afterAll(async () => {
    for (const s of sockets) await (s instanceof WebSocket ? s.terminate() : s.close());
    for (const r of routers) await r.stop();
  });

  describe('general class', () => {
    it('refuses a client over its per-address budget with RATE_LIMITED, retryAfterSeconds, Retry-After and HTTP 429', async () => {
      const url = await startRouter({ RATE_LIMIT_PER_ADDRESS: '5' });
      for (let i = 0; i < 5; i++) expect((await graphql(url, '{ __typename }')).status).toBe(200);

      const refused = await graphql(url, '{ __typename }');
      expect(refused.status).toBe(429);
      expect(refused.data).toBeUndefined();
      const ext = extensionsOf(refused);
      expect(ext).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'address', limit: 5, windowSeconds: defaults.rateLimits.general.windowSeconds });
      expect(ext.retryAfterSeconds).toBeGreaterThan(0);
      expect(ext.retryAfterSeconds).toBeLessThanOrEqual(defaults.rateLimits.general.windowSeconds);
      expect(refused.headers.get('retry-after')).toBe(String(ext.retryAfterSeconds));
      expect(ext).not.toHaveProperty('http');
      expect(refused.errors?.[0]?.message).toMatch(/Retry in \d+ seconds/);
    });

    it('on the defaults, serves a person clicking quickly through the app (300 requests at once)', async () => {
      const url = await startRouter({});
      const answers = await Promise.all(Array.from({ length: 300 }, () => graphql(url, '{ me { id } }', { token: studentToken })));
      expect(answers.filter((r) => r.status !== 200)).toEqual([]);
    });

    it('limits a signed-in user across addresses, and leaves other users and the address alone', async () => {
      // A trusted local proxy lets this test be four clients at four addresses.
      const url = await startRouter({ TRUST_PROXY: 'loopback', RATE_LIMIT_PER_USER: '3' });
      for (let i = 1; i <= 3; i++) {
        const r = await graphql(url, '{ me { id } }', { token: studentToken, headers: { 'x-forwarded-for': `198.51.100.${i}` } });
        expect(r.data?.me?.id).toBe(student.id);
      }
      const refused = await graphql(url, '{ me { id } }', { token: studentToken, headers: { 'x-forwarded-for': '198.51.100.4' } });
      expect(refused.status).toBe(429);
      expect(extensionsOf(refused)).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'user', limit: 3 });
      expect(refused.errors?.[0]?.message).toContain('this account');

      const other = await graphql(url, '{ me { id } }', { token: instructorToken, headers: { 'x-forwarded-for': '198.51.100.4' } });
      expect(other.data?.me?.id).toBe(instructor.id);
      const anonymous = await graphql(url, '{ __typename }', { headers: { 'x-forwarded-for': '198.51.100.4' } });
      expect(anonymous.status).toBe(200);
    });
  });

  describe('strict class', () => {
    it('counts each aliased signUp: 50 in one request are refused before any account is created', async () => {
      // The operation limits would refuse 50 aliases first; raised so the rate limit is what answers.
      const url = await startRouter({ LIMIT_MAX_ALIASES: '100', LIMIT_MAX_ROOT_FIELDS: '100', DEMAND_CONTROL_MAX_COST: '1000000' });
      const tag = `burst-${randomBytes(4).toString('hex')}`;
      // One honest sign-up passes: were requests counted rather than fields, the 50 would pass too.
      const one = await graphql(url, SIGN_UP, { variables: { input: { email: `${tag}-one@campus.test`, password: 'long-enough-pw', name: 'One' } } });
      expect(one.data?.signUp?.user?.id).toBeTruthy();

      const fields = Array.from({ length: 50 }, (_, i) => `s${i}: signUp(input: { email: "${tag}-${i}@campus.test", password: "long-enough-pw", name: "Burst ${i}" }) { user { id } }`);
      const burst = await graphql(url, `mutation Burst { ${fields.join(' ')} }`);
      expect(burst.status).toBe(429);
      expect(burst.data).toBeUndefined();
      expect(extensionsOf(burst)).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'strictAddress', limit: defaults.rateLimits.strict.perAddress });
      expect(burst.headers.get('retry-after')).toBe(String(extensionsOf(burst).retryAfterSeconds));

      const accounts = await graphql(stack.routerUrl, USERS_MATCHING, { token: adminToken, variables: { s: tag } });
      expect(accounts.data.users.totalCount).toBe(1);
    });

    it('on the defaults, lets a person sign in at least 10 times in 10 minutes and refuses a burst well before 30', async () => {
      const { perAddress, windowSeconds } = defaults.rateLimits.strict;
      // Fixed windows: any 10 minutes overlap at most two of them, so 2 x the budget is the most
      // one address can get through in 10 minutes, however it times its attempts.
      expect(windowSeconds).toBeGreaterThanOrEqual(600);
      expect(2 * perAddress).toBeLessThanOrEqual(30);

      const url = await startRouter({});
      const outcomes: string[] = [];
      for (let i = 0; i < 31; i++) {
        const r = await graphql(url, LOG_IN, { variables: { input: { email: student.email, password: DEMO_PASSWORD } } });
        outcomes.push(r.data?.logIn ? 'signed in' : (errorCode(r) ?? 'no code'));
      }
      const signedIn = outcomes.filter((o) => o === 'signed in').length;
      expect(signedIn).toBeGreaterThanOrEqual(10);
      expect(signedIn).toBe(perAddress);
      expect(outcomes.slice(signedIn)).toEqual(Array(31 - signedIn).fill('RATE_LIMITED'));
    });
  });

  describe('client address', () => {
    it('gives a spoofed X-Forwarded-For no fresh budget, on HTTP and on the WebSocket upgrade', async () => {
      const url = await startRouter({ RATE_LIMIT_PER_ADDRESS: '3', RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: '1' });
      for (let i = 1; i <= 3; i++) {
        expect((await graphql(url, '{ __typename }', { headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status).toBe(200);
      }
      const spoofed = await graphql(url, '{ __typename }', { headers: { 'x-forwarded-for': '203.0.113.99' } });
      expect(spoofed.status).toBe(429);

      const wsUrlBase = await startRouter({ RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: '1' });
      const first = await upgrade(wsUrlBase, { 'x-forwarded-for': '203.0.113.1' });
      sockets.push(first.socket!);
      expect(first.status).toBe(101);
      const second = await upgrade(wsUrlBase, { 'x-forwarded-for': '203.0.113.2' });
      expect(second.status).toBe(429);
    });

    it('counts per forwarded address when the peer is a trusted proxy (TRUST_PROXY=loopback)', async () => {
      const url = await startRouter({ TRUST_PROXY: 'loopback', RATE_LIMIT_PER_ADDRESS: '2' });
      const from = (address: string) => graphql(url, '{ __typename }', { headers: { 'x-forwarded-for': address } });
      expect((await from('203.0.113.10')).status).toBe(200);
      expect((await from('203.0.113.10')).status).toBe(200);
      expect((await from('203.0.113.10')).status).toBe(429);
      expect((await from('203.0.113.11')).status).toBe(200);
      // The client cannot prepend its own choice: the nearest untrusted hop is the one counted.
      expect((await from('10.9.9.9, 203.0.113.10')).status).toBe(429);
    });
  });

  describe('graphql-ws', () => {
    it('refuses more open connections per address on the upgrade with 429 and Retry-After, and admits again once one closes', async () => {
      const url = await startRouter({ RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: '2' });
      const a = await ws(url);
      await ws(url);
      const refused = await upgrade(url);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'wsConnectionsPerAddress', limit: 2 });
      expect(refused.body.errors[0].extensions.retryAfterSeconds).toBe(Number(refused.headers['retry-after']));

      await a.close();
      const again = await waitFor(async () => {
        const attempt = await upgrade(url);
        return attempt.status === 101 && attempt.socket;
      }, 'a connection slot to free up', 15_000);
      sockets.push(again);
    });

    it('refuses a subscription over the per-connection limit of operations in flight, and admits one after another completes', async () => {
      const url = await startRouter({ RATE_LIMIT_WS_OPERATIONS_IN_FLIGHT: '2' });
      const socket = await ws(url, studentToken);
      const first = socket.subscribe(SESSION_EVENTS);
      const second = socket.subscribe(SESSION_EVENTS);
      const third = socket.subscribe(SESSION_EVENTS);
      const { error } = await third.ended;
      const ext = (error as { extensions?: Extensions }[])[0]?.extensions;
      expect(ext).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'wsOperationsInFlight', limit: 2 });
      expect(first.isEnded).toBe(false);
      expect(second.isEnded).toBe(false);

      // graphql-ws handles messages in order: once `complete` is in, the slot is free.
      first.unsubscribe();
      const answer = await socket.execute('{ me { id } }');
      expect(answer.data?.me?.id).toBe(student.id);
    });

    it('refuses operations over the per-second limit of a connection with RATE_LIMITED and retryAfterSeconds, and serves it again after', async () => {
      const url = await startRouter({ RATE_LIMIT_WS_OPERATIONS_PER_SECOND: '3' });
      const socket = await ws(url);
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => socket.execute('{ __typename }')));
      const served = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(served.length).toBeGreaterThanOrEqual(3);
      expect(refused.length).toBeGreaterThan(0);
      expect((refused[0]!.reason as { extensions?: Extensions }[])[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'wsOperationsPerSecond', limit: 3, retryAfterSeconds: 1 });
      await waitFor(async () => (await socket.execute('{ __typename }')).data, 'the next second', 15_000);
    });

    it('applies the general and strict classes to operations over the socket too', async () => {
      const url = await startRouter({ RATE_LIMIT_PER_ADDRESS: '3' });
      // The upgrade is one request of the address's budget, each operation another.
      const socket = await ws(url);
      expect((await socket.execute('{ __typename }')).data).toBeTruthy();
      expect((await socket.execute('{ __typename }')).data).toBeTruthy();
      const ext = await refusalOf(socket.execute('{ __typename }'));
      expect(ext).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'address', limit: 3 });
      expect(ext.retryAfterSeconds).toBeGreaterThan(0);
      expect(ext).not.toHaveProperty('http');

      const strictUrl = await startRouter({ LIMIT_MAX_ALIASES: '100', LIMIT_MAX_ROOT_FIELDS: '100', DEMAND_CONTROL_MAX_COST: '1000000' });
      const strictSocket = await ws(strictUrl);
      const tag = `ws-burst-${randomBytes(4).toString('hex')}`;
      const fields = Array.from({ length: 20 }, (_, i) => `s${i}: signUp(input: { email: "${tag}-${i}@campus.test", password: "long-enough-pw", name: "Burst ${i}" }) { user { id } }`);
      expect(await refusalOf(strictSocket.execute(`mutation { ${fields.join(' ')} }`))).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'strictAddress' });
      const accounts = await graphql(stack.routerUrl, USERS_MATCHING, { token: adminToken, variables: { s: tag } });
      expect(accounts.data.users.totalCount).toBe(0);
    });
  });

  describe('counters in Redis', () => {
    it('keeps serving, counting in memory, when Redis cannot be reached', async () => {
      // A port nothing listens on: bound, then released.
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));

      const url = await startRouter({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_PER_ADDRESS: '3' });
      for (let i = 0; i < 3; i++) expect((await graphql(url, '{ __typename }')).status).toBe(200);
      expect(extensionsOf(await graphql(url, '{ __typename }'))).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'address' });
    });

    it.skipIf(!redisUrl)('shares one budget between two router instances', async () => {
      const env = { REDIS_URL: redisUrl!, RATE_LIMIT_REDIS_PREFIX: `campus-test-${randomBytes(6).toString('hex')}:rate-limit:`, RATE_LIMIT_PER_ADDRESS: '4' };
      const a = await startRouter(env);
      const b = await startRouter(env);
      for (const url of [a, b, a, b]) expect((await graphql(url, '{ __typename }')).status).toBe(200);
      for (const url of [a, b]) {
        const refused = await graphql(url, '{ __typename }');
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toBeTruthy();
      }
    });
  });
});
