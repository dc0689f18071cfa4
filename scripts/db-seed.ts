/**
 * npm run db:seed [-- --scale N] — seeds every configured PostgreSQL database with the demo data
 * (migrating first). Idempotent: existing rows are left alone. --scale multiplies the data for
 * benchmarks (1 = the demo: ~60 courses, a few hundred students).
 */
import { openDatabase } from '@campus/kit/subgraph';
import { configuredDatabases } from './service-databases.ts';

const i = process.argv.indexOf('--scale');
const scale = i >= 0 ? Number(process.argv[i + 1]) : 1;
if (!(scale > 0)) {
  console.error('db:seed: --scale must be a positive number');
  process.exit(1);
}

for (const d of configuredDatabases(process.env, 'db:seed')) {
  const db = await openDatabase({ url: d.url, migrationsDir: d.migrationsDir });
  try {
    await db.migrate();
    console.log(`${d.service}: seeded`, await d.definition.seed.into(db.adapter, scale));
  } finally {
    await db.close();
  }
}
