/**
 * /health and /ready of every service of a running stack (docs/readiness.md): liveness answers
 * without asking anything, readiness names each check. On the worker's shared stack, which this
 * file only reads; the router that sees a subgraph down is one of this file's own, over a
 * supergraph in which payments points at a port nothing listens on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@campus/kit/core';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';
import { REPO_ROOT } from '@campus/stack/stack';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { freePort } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const withRedis = Boolean(process.env.TEST_REDIS_URL);

const probe = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('readiness of a running stack', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await sharedTestStack();
  });

  it.each(['users', 'courses', 'payments'])('%s is alive and ready, its database (and Redis) up', async (name) => {
    expect(await probe(`${stack.urls[name]}/health`)).toEqual({ status: 200, body: { status: 'ok', service: name } });
    const ready = await probe(`${stack.urls[name]}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', service: name, checks: { database: { status: 'up' } } });
    expect(ready.body.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(ready.body.checks.redis?.status).toBe(withRedis ? 'up' : undefined);
  });

  it('the router is alive and ready: supergraph, planner, every subgraph (and Redis) up', async () => {
    expect(await probe(`${stack.urls.router}/health`)).toEqual({ status: 200, body: { status: 'ok', service: 'router' } });
    const ready = await probe(`${stack.urls.router}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      service: 'router',
      checks: {
        supergraph: { status: 'up' },
        planner: { status: 'up' },
        subgraphs: { status: 'up', subgraphs: { users: { status: 'up' }, courses: { status: 'up' }, payments: { status: 'up' } } },
      },
    });
    expect(ready.body.checks.redis?.status).toBe(withRedis ? 'up' : undefined);
  });

  describe('a router whose subgraph is down', () => {
    let router: Router;
    let base: string;
    let dir: string;
    let deadUrl: string;

    beforeAll(async () => {
      deadUrl = `http://127.0.0.1:${await freePort()}`;
      dir = mkdtempSync(join(tmpdir(), 'campus-readiness-'));
      const urls: Record<string, string> = { ...stack.urls, payments: deadUrl };
      const supergraphPath = join(dir, 'supergraph.graphql');
      writeFileSync(
        supergraphPath,
        composeSupergraph(readSupergraphConfig(join(REPO_ROOT, 'supergraph.yaml')).map((s) => ({ ...s, url: `${urls[s.name]}/graphql` }))),
      );
      const config = loadConfig({
        NODE_ENV: 'test',
        ROUTER_SIGNING_KEYS: stack.keys.router,
        SUPERGRAPH_PATH: supergraphPath,
        JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      });
      router = createRouter(config, { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent') });
      await new Promise<void>((resolve) => router.httpServer.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}`;
      // Listening, not started: alive, not ready, and GraphQL refused with a code a client retries on.
      expect(await probe(`${base}/health`)).toMatchObject({ status: 200 });
      expect((await probe(`${base}/ready`)).status).toBe(503);
      const starting = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      expect(starting.status).toBe(503);
      expect(starting.headers.get('retry-after')).toBe('1');
      expect(await starting.json()).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      await router.start();
      // No wait: the 503 above is not repeated once started, as the router's own checks (supergraph,
      // planner) are asked on every probe and the subgraphs' result is kept per supergraph (docs/readiness.md).
    });

    afterAll(async () => {
      await router?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers /ready 503 naming the subgraph that is down, and /health 200', async () => {
      const ready = await probe(`${base}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 'unready',
        service: 'router',
        reason: 'down: subgraphs',
        checks: {
          supergraph: { status: 'up' },
          subgraphs: { status: 'down', subgraphs: { users: { status: 'up' }, courses: { status: 'up' }, payments: { status: 'down' } } },
        },
      });
      expect(ready.body.checks.subgraphs.error).toMatch(/^payments: .*ECONNREFUSED/);
      expect(ready.body.checks.subgraphs.subgraphs.payments.error).toContain(new URL(deadUrl).host);
      expect(await probe(`${base}/health`)).toEqual({ status: 200, body: { status: 'ok', service: 'router' } });
    });
  });
});
