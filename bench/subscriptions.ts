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
 *   upstream subscriptions the owning subgraph holds: N direct; through the router, identical
 *            subscriptions of one viewer scope share one (router/src/subscriptions/
 *            shared-subscriptions.ts), so both scenarios here (one token; anonymous) expect 1.
 *   targets  printed per pair under each table (TARGETS below).
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
import { loadavg } from 'node:os';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { startStack } from '@campus/stack';
import { USERS_JWKS_PATH } from '@campus/kit/subgraph';
import { courseScenario, sessionScenario } from './lib/campus-scenarios.ts';
import { ownMemory } from './lib/own-memory.ts';
import { LEGEND, pairTable, type Pair } from './lib/report.ts';
import { startRouterProcess } from './lib/router-process.ts';
import { runScenario, type RunOptions } from './lib/scenario.ts';
import { forkSubscribers } from './lib/subscribers.ts';

/**
 * The targets of docs/subscriptions.md ("Benchmark"), checked per pair: the subscribers share one
 * upstream subscription, p99 within 1.2x of direct, and the router's heap per subscription at most
 * half of the 35 KiB it took with an upstream socket and subscription per client.
 */
const TARGETS = { upstream: 1, p99Ratio: 1.2, heapPerSubKiB: 17.5 };

function targets(pairs: Pair[]): string {
  return pairs
    .map(({ direct, router }, i) => {
      const p99 = router.latency.p99 / direct.latency.p99;
      const kib = router.heapPerSub.router / 1024;
      const check = (ok: boolean) => (ok ? 'ok' : 'MISSED');
      return (
        `pair ${i + 1}: upstream subscriptions ${router.upstreamSubscriptions} (target ${TARGETS.upstream}: ${check(router.upstreamSubscriptions === TARGETS.upstream)}), ` +
        `p99 ${p99.toFixed(2)}x (target <= ${TARGETS.p99Ratio}x: ${check(p99 <= TARGETS.p99Ratio)}), ` +
        `router heap/sub ${kib.toFixed(1)} KiB (target <= ${TARGETS.heapPerSubKiB}: ${check(kib <= TARGETS.heapPerSubKiB)})`
      );
    })
    .join('\n');
}

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
  // 1,000 subscribers from one address are over the per-address WebSocket limit (edge/ws-rate-limits.ts); the edge is not what this measures.
  RATE_LIMIT_ENABLED: 'false',
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
    routerSubscriptions: async () => {
      // The router's own gauge, from its /metrics (on its port: the benchmark sets no ROUTER_METRICS_PORT).
      const text = await (await fetch(router.url.replace(/\/graphql$/, '/metrics'))).text();
      const line = text.split('\n').find((l) => l.startsWith('campus_router_subscriptions_active'));
      return line ? Number(line.split(' ').at(-1)) : Number.NaN;
    },
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
          `${process.env.REDIS_URL ? 'Redis' : 'in-process'} pub/sub, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
        pairTable(pairs),
        targets(pairs),
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
