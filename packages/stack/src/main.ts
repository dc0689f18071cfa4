/**
 * `npm start`: the embedded default. The router on :4000 and every subgraph on the next ports, in
 * one process, on PGlite under .data/ — nothing to install or run. Migrations apply at start; demo
 * data is seeded into empty databases only (the embedded default; never a production database).
 * The stack's process entry (`npm start` imports it from scripts/start.ts once the Prisma clients
 * are generated); runProcess owns signals, draining and exit.
 */
import { embeddedDataDir, startEarly } from './start-early.ts';

const env = { ...process.env };
const dataDir = embeddedDataDir(env);
// Before the modules below load, so that it runs meanwhile (start-early.ts).
await startEarly(env);

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
