/**
 * Databases for tests: with TEST_DATABASE_URL (CI: the machine's PostgreSQL) each test stack gets
 * its own throwaway database per service, created here and dropped on close, so test files can run
 * in parallel without seeing each other's rows. Without it, services use in-memory PGlite.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabases {
  /** Env variables pointing each service at its database (empty for PGlite). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestDatabases(adminUrl: string | undefined, services: string[]): Promise<TestDatabases> {
  if (!adminUrl) return { env: {}, drop: async () => {} };
  const suffix = randomBytes(5).toString('hex');
  const names = services.map((s) => `campus_test_${s}_${suffix}`);
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
