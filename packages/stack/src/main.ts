/**
 * `npm start`: the embedded default. The router on :4000 and every subgraph on the next ports, in
 * one process, on PGlite under .data/ — nothing to install or run. Migrations apply at start; demo
 * data is seeded into empty databases only (the embedded default; never a production database).
 * The stack's process entry; runProcess owns signals, draining and exit.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { prepareEmptyPgliteDirs } from '@campus/kit/tooling';

const env = { ...process.env };
const repoRoot = new URL('../../../', import.meta.url).pathname;
const dataDir = env.CAMPUS_DATA_DIR ?? join(repoRoot, '.data');

// On a first start, the empty PGlite cluster of each embedded database (an initdb, then one copy
// per service) is made on a worker thread while this one loads the services' modules
// (packages/kit/src/tooling/pglite-template.ts). Where stack.ts opens each: <dataDir>/<service>/pglite.
const embedded = readdirSync(join(repoRoot, 'subgraphs'))
  .filter((name) => existsSync(join(repoRoot, 'subgraphs', name, 'prisma', 'schema.prisma')))
  .map((name) => name.toUpperCase())
  .filter((NAME) => !env[`${NAME}_DATABASE_URL`]);
prepareEmptyPgliteDirs(embedded.map((NAME) => join(env[`${NAME}_DATA_DIR`] ?? join(dataDir, NAME.toLowerCase()), 'pglite')));

const { DEMO_ACCOUNTS, DEMO_PASSWORD, runProcess } = await import('@campus/kit/core');
const { SERVICE_DEFINITIONS } = await import('./services.ts');
const { startStack } = await import('./stack.ts');

const routerPort = Number(env.ROUTER_PORT ?? 4000);
// Subgraphs on the ports after the router's (4001, 4002, 4003), matching supergraph.yaml.
SERVICE_DEFINITIONS.forEach((def, i) => {
  env[`${def.name.toUpperCase()}_PORT`] ??= String(routerPort + i + 1);
});

await runProcess('stack', async () => {
  const stack = await startStack({ env, routerPort, dataDir });
  const seeded = await stack.seedIfEmpty(Number(env.SEED_SCALE ?? 1));
  if (Object.keys(seeded).length) stack.logger.info({ seeded }, 'seeded demo data on first start');
  printBanner(stack.urls);
  return { logger: stack.logger, close: () => stack.close() };
});

function printBanner(urls: Record<string, string>): void {
  const port = (name: string) => new URL(urls[name]!).port;
  console.log(
    [
      '',
      'Campus is running on the embedded default (PGlite under .data/).',
      `  router + Apollo Sandbox   http://localhost:${port('router')}/graphql`,
      `  liveness, readiness       http://localhost:${port('router')}/health, /ready (docs/readiness.md)`,
      ...SERVICE_DEFINITIONS.map((d) => `  ${`${d.name} subgraph`.padEnd(25)} http://localhost:${port(d.name)}/graphql (answers the router only)`),
      '',
      `Demo accounts (password "${DEMO_PASSWORD}"):`,
      ...DEMO_ACCOUNTS.map((a) => `  ${a.role.padEnd(10)} ${a.email}`),
      '',
    ].join('\n'),
  );
}
