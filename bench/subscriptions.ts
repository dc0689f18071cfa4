/**
 * Benchmark: federated subscriptions through the router against the same subscriptions taken
 * straight from the owning subgraph (`npm run bench:subscriptions`). Figures are reported as
 * router/direct ratios measured side by side in one run; see docs/subscriptions.md.
 *
 *   latency  from the moment a subgraph publishes an event to the moment each subscriber has it.
 *            router: pub/sub → subgraph graphql-ws → router (primary + rest of the plan) → client
 *            direct: pub/sub → subgraph graphql-ws → client (upgrade signed as the router signs)
 *   memory   heap after a full GC with every subscription open, minus the same before they were
 *            opened, per subscription: the router process's, and this process's (the subgraphs').
 *
 * Three processes: the router (its real entry point), the subgraphs (here) and the subscribers
 * (their own, so this process's heap holds the subgraph side only). Per scenario, after a small
 * warm-up of both paths, runs alternate direct, router, direct, router… so each pair shares the
 * machine's conditions.
 *
 *   BENCH_SUBSCRIBERS  concurrent subscribers, one WebSocket each (default 1000)
 *   BENCH_EVENTS       events per run, raised one after the other (default 30)
 *   BENCH_PAIRS        direct/router pairs per scenario (default 2)
 *   REDIS_URL          Redis pub/sub between publishers and subgraph subscribers
 */
import { generateServiceKeyPem } from '@campus/kit/identity';
import { startStack } from '@campus/stack';
import { USERS_JWKS_PATH } from '@campus/kit/subgraph';
import { courseScenario, sessionScenario } from './lib/campus-scenarios.ts';
import { ownMemory } from './lib/own-memory.ts';
import { LEGEND, pairTable, type Pair } from './lib/report.ts';
import { startRouterProcess } from './lib/router-process.ts';
import { runScenario, type RunOptions } from './lib/scenario.ts';
import { forkSubscribers } from './lib/subscribers.ts';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 30);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 2);

// The stack's subgraphs trust this key; the router process and the direct subscribers sign with it.
const routerKey = generateServiceKeyPem();
const stack = await startStack({
  env: { NODE_ENV: 'test', ROUTER_SIGNING_KEYS: routerKey, ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
  routerPort: 0,
  host: '127.0.0.1',
  logLevel: 'silent',
});
await stack.seedIfEmpty(0.05);
const router = await startRouterProcess({
  ROUTER_SIGNING_KEYS: routerKey,
  SUPERGRAPH_PATH: stack.supergraphPath,
  JWKS_URL: `${stack.urls.users}${USERS_JWKS_PATH}`,
  NODE_ENV: 'production',
});
const clients = forkSubscribers();

try {
  const base: Omit<RunOptions, 'path'> = {
    subscribers: SUBSCRIBERS,
    events: EVENTS,
    clients,
    routerUrl: router.url,
    routerKey,
    routerMemory: router.memory,
    subgraphMemory: ownMemory,
  };
  let failed = false;
  for (const make of [sessionScenario, courseScenario]) {
    const scenario = await make(stack, router.url);
    // Warm-up (JIT, plan cache, JWKS, connection setup) so neither path's first run is penalised.
    for (const path of ['direct', 'router'] as const) await runScenario(scenario, { ...base, path, subscribers: 20, events: 3 });
    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const direct = await runScenario(scenario, { ...base, path: 'direct' });
      const viaRouter = await runScenario(scenario, { ...base, path: 'router' });
      pairs.push({ direct, router: viaRouter });
      failed ||= !direct.complete || !viaRouter.complete;
    }
    console.log(
      [
        '',
        `${scenario.name}: ${SUBSCRIBERS} subscribers (one WebSocket each), ${EVENTS} events per run, ` +
          `${process.env.REDIS_URL ? 'Redis' : 'in-process'} pub/sub, node ${process.version}`,
        pairTable(pairs),
      ].join('\n'),
    );
  }
  console.log(`\n${LEGEND}`);
  if (failed) process.exitCode = 1;
} finally {
  await clients.stop();
  await router.stop();
  await stack.close();
}
