/**
 * The whole-stack harness: start the router and every subgraph on free ports, for the end-to-end
 * tests in packages/stack/test (talk to it with @campus/test-kit). Reads TEST_DATABASE_URL
 * (PostgreSQL admin URL) and TEST_REDIS_URL when set. docs/testing.md describes when a test file
 * uses the worker's shared stack and when it starts its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createLogger, type Env } from '@campus/kit/core';
import { composeSupergraph } from '@campus/router/compose';
import { loadConfig as loadRouterConfig } from '@campus/router/config';
import { createRouter } from '@campus/router/server';
import { createRequestSigner, generateServiceKeyPem, type RequestSigner } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import { createTestDatabases, testRedisEnv } from '@campus/test-kit/databases';
import { createTokenMinter } from '@campus/test-kit/tokens';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { SERVICE_DEFINITIONS } from './services.ts';
import { startStack, type Stack } from './stack.ts';


export interface TestStack extends Stack {
  /**
   * The PEM private keys the router and payments sign with (ROUTER_SIGNING_KEYS,
   * PAYMENTS_SIGNING_KEYS), and the one users signs access tokens with when the test chose it
   * (USERS_JWT_PRIVATE_KEY; the shared stack always does).
   */
  keys: { router: string; payments: string; usersJwt?: string | undefined };
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
  /** Names its databases and Redis keys after this (`<label>_<service>_...`, `<label>-...`) instead of a random test name. */
  label?: string;
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

export async function startTestStack({ env = {}, seedScale = 0.01, persistent = false, label }: TestStackOptions = {}): Promise<TestStack> {
  const databases = await createTestDatabases(
    process.env.TEST_DATABASE_URL,
    SERVICE_DEFINITIONS.map((d) => d.name),
    label,
  );
  // Generated here rather than by the stack, so tests can sign as the router and as payments.
  const keys = { router: env.ROUTER_SIGNING_KEYS ?? generateServiceKeyPem(), payments: env.PAYMENTS_SIGNING_KEYS ?? generateServiceKeyPem() };
  const redisEnv = testRedisEnv(label);
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
    keys: { ...keys, usersJwt: env.USERS_JWT_PRIVATE_KEY },
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
  const prefixes = [redisEnv.REDIS_EVENTS_PREFIX, redisEnv.REDIS_SESSIONS_PREFIX, redisEnv.RESPONSE_CACHE_REDIS_PREFIX].filter(Boolean);
  if (!redisEnv.REDIS_URL || !prefixes.length) return;
  const redis = new Redis(redisEnv.REDIS_URL);
  try {
    const keys = (await Promise.all(prefixes.map((prefix) => redis.keys(`${prefix}*`)))).flat();
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Names the shared stacks of this run, so global-setup.ts can drop what they leave behind. */
    sharedStackLabel: string;
  }
}

/** Set by packages/stack/test/global-setup.ts; absent when a file runs outside the e2e project. */
export const sharedStackLabel = (): string | undefined => inject('sharedStackLabel');

const SHARED = Symbol.for('campus.sharedTestStack');

/**
 * The general class too, on the shared stack only: its router serves every file of the worker, all
 * from 127.0.0.1 and the demo accounts, within one window. Tests of the limits start routers of
 * their own with the limits they test (packages/stack/test/router/rate-limits.e2e.test.ts).
 */
const SHARED_RATE_LIMITS: Env = { RATE_LIMIT_PER_ADDRESS: '1000000', RATE_LIMIT_PER_USER: '1000000' };

/**
 * The stack of this test worker in the default configuration (startTestStack with no options,
 * plus a users signing key it exposes as keys.usersJwt and general rate limits out of the way),
 * started by the first file that asks and reused by every later file of the worker: the e2e
 * project runs with `isolate: false`, so files of one worker share the process and this module. Never close it: it ends with the worker, and
 * global-setup.ts drops its PostgreSQL databases and Redis keys after the run.
 *
 * Files on it share one set of databases with the files before them: they make their own
 * accounts and courses (unique emails, titles and search tags), never count rows other files
 * could add, and leave the demo accounts as they found them (docs/testing.md).
 */
export function sharedTestStack(): Promise<TestStack> {
  const holder = globalThis as { [SHARED]?: Promise<TestStack> };
  holder[SHARED] ??= (async () => {
    const usersJwt = await createTokenMinter();
    return startTestStack({ env: { USERS_JWT_PRIVATE_KEY: usersJwt.pem, ...SHARED_RATE_LIMITS }, label: sharedStackLabel() });
  })();
  return holder[SHARED];
}

/**
 * A second router in this process beside a test stack's own, on a free port of 127.0.0.1, routing
 * to the same subgraphs: for tests of what router instances share through Redis (`env` names the
 * Redis URL and prefixes). Its rate limits are off: its counters would share a prefix with other
 * test files' routers, which is not what such tests are about.
 */
export async function startSecondRouter(stack: TestStack, env: Env): Promise<{ url: string; stop(): Promise<void> }> {
  const router = createRouter(
    loadRouterConfig({
      NODE_ENV: 'test',
      ROUTER_SIGNING_KEYS: stack.keys.router,
      SUPERGRAPH_PATH: stack.supergraphPath,
      JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      RATE_LIMIT_ENABLED: 'false',
      ...env,
    }),
    { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent') },
  );
  await new Promise<void>((resolve) => router.httpServer.listen(0, '127.0.0.1', resolve));
  await router.start();
  return { url: `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}/graphql`, stop: () => router.stop() };
}

/** Composes `subgraphs` (the tests' own small subgraphs) into a supergraph file in a fresh temporary directory; returns its path. */
export function writeTestSupergraph(label: string, subgraphs: Parameters<typeof composeSupergraph>[0]): string {
  const path = join(mkdtempSync(join(tmpdir(), `${label}-`)), 'supergraph.graphql');
  writeFileSync(path, composeSupergraph(subgraphs));
  return path;
}
