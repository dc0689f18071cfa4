/**
 * npm run db:migrate — applies every service's committed migrations to its PostgreSQL database
 * (<SERVICE>_DATABASE_URL), recording them in _prisma_migrations as `prisma migrate deploy` does.
 */
import { openDatabase } from '@campus/kit/subgraph';
import { configuredDatabases } from './service-databases.ts';

for (const d of configuredDatabases(process.env, 'db:migrate')) {
  const db = await openDatabase({ url: d.url, migrationsDir: d.migrationsDir });
  try {
    const applied = await db.migrate();
    console.log(`${d.service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  } finally {
    await db.close();
  }
}
