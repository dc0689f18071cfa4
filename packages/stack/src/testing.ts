/**
 * The test harness: start the whole stack on free ports and talk to it like a client would.
 * Reads TEST_DATABASE_URL (PostgreSQL admin URL) and TEST_REDIS_URL when set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Headers as CampusHeaders, type Env } from '@campus/kit/core';
import { createRequestSigner, generateServiceKeyPem, type RequestSigner } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/subgraph';
import { Redis } from 'ioredis';
import { SERVICE_DEFINITIONS } from './services.ts';
import { startStack, type Stack } from './stack.ts';
import { createTestDatabases } from './test-databases.ts';


export interface TestStack extends Stack {
  /** The PEM private keys the router and payments sign with (ROUTER_SIGNING_KEYS, PAYMENTS_SIGNING_KEYS). */
  keys: { router: string; payments: string };
  /** Sign as the router or as payments, e.g. `signedSubgraphRequest(url, { signer: stack.signers.router, audience: 'users' }, ...)`. */
  signers: { router: RequestSigner; payments: RequestSigner };
}

export interface TestStackOptions {
  env?: Env;
  /** Seed demo data at this scale (0 = none). Default: a small scale with the demo accounts. */
  seedScale?: number;
  /**
   * Keep embedded (PGlite) databases in a temporary directory instead of memory, so a service
   * can be stopped and started again (stack.stopService/startService) with its data.
   */
  persistent?: boolean;
}

/**
 * Every test client is 127.0.0.1, and test files sign up and log in far more often than a person
 * (the production default is 15 per address per 10 minutes): the strict class and WebSocket
 * connections per address are raised here so tests of other things are not refused. Tests of the
 * rate limits themselves set their own (packages/stack/test/router/rate-limits.e2e.test.ts).
 */
const TEST_RATE_LIMITS: Env = {
  RATE_LIMIT_STRICT_PER_ADDRESS: '100000',
  RATE_LIMIT_STRICT_PER_USER: '100000',
  // Tests of fan-out open a hundred and more sockets, all from 127.0.0.1.
  RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: '10000',
};

export async function startTestStack({ env = {}, seedScale = 0.01, persistent = false }: TestStackOptions = {}): Promise<TestStack> {
  const databases = await createTestDatabases(process.env.TEST_DATABASE_URL, SERVICE_DEFINITIONS.map((d) => d.name));
  // Generated here rather than by the stack, so tests can sign as the router and as payments.
  const keys = { router: env.ROUTER_SIGNING_KEYS ?? generateServiceKeyPem(), payments: env.PAYMENTS_SIGNING_KEYS ?? generateServiceKeyPem() };
  const redisEnv = testRedisEnv();
  const dataDir = persistent ? mkdtempSync(join(tmpdir(), 'campus-test-')) : undefined;
  const stack = await startStack({
    env: { NODE_ENV: 'test', ROUTER_SIGNING_KEYS: keys.router, PAYMENTS_SIGNING_KEYS: keys.payments, ...databases.env, ...redisEnv, ...TEST_RATE_LIMITS, ...env },
    routerPort: 0,
    host: '127.0.0.1',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    dataDir,
  });
  if (seedScale > 0) await stack.seedIfEmpty(seedScale);
  return {
    ...stack,
    keys,
    signers: { router: createRequestSigner(ROUTER_ISSUER, [keys.router]), payments: createRequestSigner('payments', [keys.payments]) },
    async close() {
      await stack.close();
      await databases.drop();
      await dropRedisStreams(redisEnv);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Event streams outlive the bus (that is their point), and revocations live as long as a token
 * could; a test stack's are removed with it.
 */
async function dropRedisStreams(redisEnv: Env): Promise<void> {
  const prefixes = [redisEnv.REDIS_EVENTS_PREFIX, redisEnv.REDIS_SESSIONS_PREFIX].filter(Boolean);
  if (!redisEnv.REDIS_URL || !prefixes.length) return;
  const redis = new Redis(redisEnv.REDIS_URL);
  try {
    const keys = (await Promise.all(prefixes.map((prefix) => redis.keys(`${prefix}*`)))).flat();
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Polls `check` until it returns something other than undefined/null/false; fails after `timeoutMs`. No sleeps in tests: wait on a condition. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<Exclude<T, false>>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<Exclude<T, false>>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * REDIS_URL from TEST_REDIS_URL, with channel and key prefixes of this stack's own: test files run in
 * parallel against one Redis and seed the same deterministic user ids, so without it one file's
 * events would reach another file's subscribers.
 */
export function testRedisEnv(): Env {
  const url = process.env.TEST_REDIS_URL;
  if (!url) return {};
  const run = `campus-test-${randomBytes(6).toString('hex')}`;
  // Rate-limit counters too: every test stack's clients are 127.0.0.1, so a shared prefix would
  // make one file's sign-ins spend another's budget.
  return {
    REDIS_URL: url,
    REDIS_PUBSUB_PREFIX: `${run}:`,
    REDIS_EVENTS_PREFIX: `${run}:events:`,
    RATE_LIMIT_REDIS_PREFIX: `${run}:rate-limit:`,
    REDIS_SESSIONS_PREFIX: `${run}:sessions:`,
  };
}

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface RequestOptions {
  variables?: Record<string, unknown>;
  token?: string | undefined;
  headers?: Record<string, string>;
}

/** POSTs a GraphQL operation to `url` (the router, normally). */
export async function graphql<T = any>(url: string, query: string, options: RequestOptions = {}): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: res.status, headers: res.headers, ...body };
}

/** Who a test request is signed as (`signer`: stack.signers.router, ...) and for which service (`audience`: 'users', ...). */
export interface SignAs {
  signer: RequestSigner;
  audience: string;
}

/** A subgraph request as the router (or payments) would send it: the exact body and its headers, signature included. */
export function signSubgraphRequest(subgraphUrl: string, as: SignAs, query: string, options: RequestOptions = {}) {
  const body = JSON.stringify({ query, variables: options.variables });
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const path = new URL(subgraphUrl).pathname;
  const clientIp = options.headers?.[CampusHeaders.clientIp];
  const signature = as.signer.sign(as.audience, { method: 'POST', path, authorization, clientIp, body });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(authorization ? { authorization } : {}),
    ...options.headers,
    [CampusHeaders.serviceSignature]: signature,
  };
  return { body, headers };
}

/** POSTs exactly this body with these headers (a signed request, perhaps for the second time). */
export async function postRaw<T = any>(url: string, request: { body: string; headers: Record<string, string> }): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const reply = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: res.status, headers: res.headers, ...reply };
}

/** Calls a subgraph directly, signed as `as.signer` signs for `as.audience`, with a fresh request id. */
export async function signedSubgraphRequest<T = any>(subgraphUrl: string, as: SignAs, query: string, options: RequestOptions = {}): Promise<GraphQLResponse<T>> {
  return postRaw<T>(subgraphUrl, signSubgraphRequest(subgraphUrl, as, query, options));
}

/** The first error's code, or undefined. */
export const errorCode = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code as string | undefined;

export const LOG_IN = /* GraphQL */ `
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { accessToken refreshToken user { id email role } }
  }
`;

export async function logIn(routerUrl: string, email: string, password: string) {
  const r = await graphql(routerUrl, LOG_IN, { variables: { input: { email, password } } });
  if (!r.data?.logIn) throw new Error(`logIn ${email} failed: ${JSON.stringify(r.errors)}`);
  return r.data.logIn as { accessToken: string; refreshToken: string; user: { id: string; email: string; role: string } };
}
