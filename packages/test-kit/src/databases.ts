/**
 * Databases and Redis namespaces for tests. With TEST_DATABASE_URL (CI: the machine's PostgreSQL)
 * each caller gets its own throwaway database per service, created here and dropped by `drop()`,
 * so test files can run in parallel without seeing each other's rows. Without it, services use
 * in-memory PGlite and `env` is empty.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabases {
  /** Env variables pointing each service at its database (<NAME>_DATABASE_URL; empty for PGlite). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** `label` names the databases (`<label>_<service>_<random>`), so a cleanup can find them by prefix. */
export async function createTestDatabases(adminUrl: string | undefined, services: string[], label = 'campus_test'): Promise<TestDatabases> {
  if (!adminUrl) return { env: {}, drop: async () => {} };
  const suffix = randomBytes(5).toString('hex');
  const names = services.map((s) => `${label}_${s}_${suffix}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const env = Object.fromEntries(
    services.map((s, i) => {
      const url = new URL(adminUrl);
      url.pathname = `/${names[i]}`;
      return [`${s.toUpperCase()}_DATABASE_URL`, url.toString()];
    }),
  );
  return {
    env,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * REDIS_URL from TEST_REDIS_URL, with channel and key prefixes of the caller's own: test files run
 * in parallel against one Redis and seed the same deterministic user ids, so without them one
 * file's events would reach another file's subscribers. Empty without TEST_REDIS_URL. `label`
 * starts the prefixes (default campus-test), so a cleanup can find the keys.
 */
export function testRedisEnv(label?: string): Record<string, string> {
  const url = process.env.TEST_REDIS_URL;
  if (!url) return {};
  const run = `${label ?? 'campus-test'}-${randomBytes(6).toString('hex')}`;
  // Rate-limit counters too: every test client is 127.0.0.1, so a shared prefix would make one
  // file's sign-ins spend another's budget.
  return {
    REDIS_URL: url,
    REDIS_PUBSUB_PREFIX: `${run}:`,
    REDIS_EVENTS_PREFIX: `${run}:events:`,
    RATE_LIMIT_REDIS_PREFIX: `${run}:rate-limit:`,
    REDIS_SESSIONS_PREFIX: `${run}:sessions:`,
    // Cached responses and the catalog generation: stacks of other files hold other data under the same queries.
    RESPONSE_CACHE_REDIS_PREFIX: `${run}:response-cache:`,
  };
}
