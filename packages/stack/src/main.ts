/**
 * `npm start`: the embedded default. The router on :4000 and every subgraph on the next ports, in
 * one process, on PGlite under .data/ — nothing to install or run. Migrations apply at start; demo
 * data is seeded on first start only. The only file of the stack that listens, handles signals or exits.
 */
import { join } from 'node:path';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seedSize } from '@campus/kit';
import { seedUsers } from '../../../prisma/users/seed.ts';
import { REPO_ROOT, startStack } from './stack.ts';

const env = process.env;
const routerPort = Number(env.ROUTER_PORT ?? 4000);
const stack = await startStack({
  env,
  ports: { router: routerPort, users: Number(env.USERS_PORT ?? routerPort + 1) },
  dataDir: env.CAMPUS_DATA_DIR ?? join(REPO_ROOT, '.data'),
});

// Seed only a database that has never had a user: demo data must never overwrite real data.
if ((await stack.users.prisma.user.count()) === 0) {
  const { created } = await seedUsers(stack.users.prisma, seedSize(1));
  stack.logger.info({ users: created }, 'seeded demo data');
}

const banner = [
  '',
  'Campus is running (embedded default: PGlite under .data/)',
  `  router + Apollo Sandbox   http://localhost:${routerPort}/graphql`,
  `  users subgraph            ${stack.urls.users}/graphql (router-signed requests only)`,
  `  health                    http://localhost:${routerPort}/health`,
  '',
  `Demo accounts (password "${DEMO_PASSWORD}"):`,
  ...DEMO_ACCOUNTS.map((a) => `  ${a.role.padEnd(10)} ${a.email}`),
  '',
];
console.log(banner.join('\n'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await stack.close();
    process.exit(0);
  });
}
