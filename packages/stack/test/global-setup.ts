/**
 * Global setup of the e2e project (vitest.config.ts): names this run's shared stacks
 * (sharedTestStack in packages/stack/src/testing.ts, one per test worker) and, once every worker
 * has ended, drops what they leave behind on PostgreSQL and Redis. They are never closed by a test
 * file, since none knows it is the last of its worker. With PGlite (no TEST_DATABASE_URL) there is
 * nothing to drop: their databases lived in the workers' memory.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject) {
  const label = `campus_shared_${randomBytes(5).toString('hex')}`;
  project.provide('sharedStackLabel', label);
  return async function teardown() {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (adminUrl) {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [`${label}_`]);
        for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
    const redisUrl = process.env.TEST_REDIS_URL;
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      try {
        const keys = await redis.keys(`${label}-*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }
  };
}
