/**
 * Each subgraph's /ready through a real outage of its dependencies (docs/readiness.md): the service
 * runs as its own process would (its definition, nothing shared) on a throwaway PostgreSQL
 * database and on a Redis server this file starts on a free port, so stopping that Redis touches
 * nobody else's. /health must stay 200 throughout: an outage of a dependency is not a reason to
 * restart the process.
 *
 * Needs TEST_DATABASE_URL (CI sets it): the outage is PostgreSQL refusing this database's
 * connections, and redis-server on the PATH.
 */
import type { AddressInfo } from 'node:net';
import { createLogger, REUSE_MS } from '@campus/kit/core';
import { serviceIdentityEnv } from '@campus/stack/service-keys';
import type { RunningService } from '@campus/kit/subgraph';
import { SERVICE_DEFINITIONS } from '@campus/stack/services';
import { createTestDatabases, startOwnRedis, waitFor, type OwnRedis, type TestDatabases } from '@campus/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const adminUrl = process.env.TEST_DATABASE_URL;

interface Probe {
  status: number;
  body: { status: string; service: string; reason?: string; checks: Record<string, { status: string; error?: string; latencyMs: number }> };
}

const probe = async (url: string): Promise<Probe> => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Probe['body'] };
};

describe.skipIf(!adminUrl).each(SERVICE_DEFINITIONS.map((d) => [d.name, d] as const))('%s /ready through outages', (name, definition) => {
  // A redis-server of this file's own: stopping it is an outage of nothing shared.
  let redis: OwnRedis;
  let databases: TestDatabases;
  let databaseName: string;
  let service: RunningService;
  let base: string;
  const admin = new pg.Client({ connectionString: adminUrl });

  const allowConnections = async (allow: boolean) => {
    await admin.query(`ALTER DATABASE "${databaseName}" WITH ALLOW_CONNECTIONS ${allow}`);
    if (!allow) await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName]);
  };

  beforeAll(async () => {
    redis = await startOwnRedis();
    databases = await createTestDatabases(adminUrl, [name], 'campus_test_readiness');
    const databaseUrl = databases.env[`${name.toUpperCase()}_DATABASE_URL`]!;
    databaseName = new URL(databaseUrl).pathname.slice(1);
    await admin.connect();
    const env = { NODE_ENV: 'test', [`${name.toUpperCase()}_DATABASE_URL`]: databaseUrl, REDIS_URL: redis.url };
    const logger = createLogger(name, process.env.TEST_LOG_LEVEL ?? 'silent');
    service = await definition.create(definition.loadConfig({ ...env, ...serviceIdentityEnv(env, undefined) }), {}, logger);
    await new Promise<void>((r) => service.server.httpServer.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(service.server.httpServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await allowConnections(true).catch(() => {});
    await service?.close();
    await admin.end();
    await databases?.drop();
    await redis?.stop();
  });

  it('is alive and ready, with its database and Redis up', async () => {
    expect(await probe(`${base}/health`)).toEqual({ status: 200, body: { status: 'ok', service: name } });
    const ready = await probe(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', service: name, checks: { database: { status: 'up' }, redis: { status: 'up' } } });
    expect(ready.body.checks.database!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('answers a flood of concurrent probes with one query to its database', async () => {
    // Past the window in which the previous test's answer is reused, so this flood evaluates anew.
    await new Promise((r) => setTimeout(r, REUSE_MS + 50));
    let selects = 0;
    const stop = service.onStatement((sql) => {
      if (/^\s*SELECT 1\s*$/i.test(sql)) selects += 1;
    });
    try {
      const answers = await Promise.all(Array.from({ length: 25 }, () => probe(`${base}/ready`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    } finally {
      stop();
    }
    // One evaluation for the flood; a second at most, on a machine slow enough to spread the flood past REUSE_MS.
    expect(selects).toBeGreaterThan(0);
    expect(selects).toBeLessThanOrEqual(2);
  });

  it('answers 503 naming redis while its Redis is down, stays alive, and is ready again when it is back', async () => {
    await redis.kill();
    const down = await waitFor(async () => {
      const p = await probe(`${base}/ready`);
      return p.status === 503 && p.body.checks.redis?.status === 'down' && p;
    }, 'a 503 naming redis');
    expect(down.body).toMatchObject({ status: 'unready', service: name, reason: 'down: redis', checks: { database: { status: 'up' } } });
    expect(down.body.checks.redis!.error).toContain(`ECONNREFUSED 127.0.0.1:${redis.port}`);
    expect((await probe(`${base}/health`)).status).toBe(200);

    await redis.restart();
    await waitFor(async () => (await probe(`${base}/ready`)).status === 200, '/ready 200 once Redis is back', 20_000);
  });

  it('answers 503 naming database while PostgreSQL refuses it, stays alive, and is ready again after', async () => {
    await allowConnections(false);
    const down = await waitFor(async () => {
      const p = await probe(`${base}/ready`);
      return p.status === 503 && p.body.checks.database?.status === 'down' && p;
    }, 'a 503 naming database');
    expect(down.body).toMatchObject({ status: 'unready', service: name, reason: 'down: database', checks: { redis: { status: 'up' } } });
    expect(down.body.checks.database!.error).toBeTruthy();
    expect((await probe(`${base}/health`)).status).toBe(200);

    await allowConnections(true);
    await waitFor(async () => (await probe(`${base}/ready`)).status === 200, '/ready 200 once the database is back', 20_000);
  });

  it('answers 503 draining once it begins to stop', async () => {
    service.server.readiness.drain();
    expect(await probe(`${base}/ready`)).toEqual({ status: 503, body: { status: 'unready', service: name, reason: 'draining', checks: {} } });
    expect((await probe(`${base}/health`)).status).toBe(200);
  });
});
