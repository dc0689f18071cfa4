/**
 * npm run bench:catalog-cache: the anonymous catalog page's throughput with the router's response
 * cache on and off (docs/response-cache.md), side by side in interleaved rounds.
 *
 * With REDIS_URL (the production shape): one stack process (bench/lib/stack-process.ts: subgraphs
 * and the catalog generation in Redis) and two router processes (bench/lib/router-process.ts), one
 * with RESPONSE_CACHE=true (answers cached in Redis), one with RESPONSE_CACHE=false. Without it a
 * router in a process of its own cannot see the generation, so the cache would be off in both: two
 * stack processes instead, each with its embedded router, the cache in memory in one of them.
 *
 * Each round runs BENCH_SECONDS (10) of BENCH_CONNECTIONS (50) keep-alive connections, each asking
 * for the page again as soon as it has the answer, against one router, then the other (the order
 * alternating), BENCH_ROUNDS (3) times. Rate limits are off: every request comes from 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { forkStack, type CampusStack } from './lib/campus-stack.ts';
import { startRouterProcess, type RouterProcess } from './lib/router-process.ts';
import { percentile, table } from './lib/stats.ts';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const SEED_SCALE = env.BENCH_SEED_SCALE ?? '1';
const LOG_LEVEL = env.LOG_LEVEL ?? 'fatal';
const REDIS_URL = env.REDIS_URL;

const CATALOG_PAGE = JSON.stringify({
  operationName: 'CatalogPage',
  query: /* GraphQL */ `query CatalogPage { courses(first: 20) { totalCount edges { node { id slug title subtitle level price { amount currency } lessonCount totalDuration instructor { name } } } } }`,
});

interface Round {
  requests: number;
  failures: number;
  ms: number[];
}

function post(url: URL, agent: Agent): Promise<{ ok: boolean; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(CATALOG_PAGE) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ ok: res.statusCode === 200 && !text.includes('"errors"'), ms: performance.now() - started });
        });
        res.on('error', () => resolve({ ok: false, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ ok: false, ms: performance.now() - started }));
    req.end(CATALOG_PAGE);
  });
}

async function load(graphqlUrl: string, seconds: number): Promise<Round> {
  const url = new URL(graphqlUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const round: Round = { requests: 0, failures: 0, ms: [] };
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const { ok, ms } = await post(url, agent);
        round.requests += 1;
        if (!ok) round.failures += 1;
        round.ms.push(ms);
      }
    }),
  );
  agent.destroy();
  return round;
}

const routerKey = generateServiceKeyPem();
const noLimits = { RATE_LIMIT_ENABLED: 'false', LOG_LEVEL };
const stacks: CampusStack[] = [];
const routers: RouterProcess[] = [];
const targets: Record<'on' | 'off', string> = { on: '', off: '' };
let shape: string;
try {
  if (REDIS_URL) {
    // One deployment's keys, apart from any other on the same Redis.
    const run = `campus-bench-${randomBytes(4).toString('hex')}`;
    const redis = {
      REDIS_URL,
      REDIS_PUBSUB_PREFIX: `${run}:`,
      REDIS_EVENTS_PREFIX: `${run}:events:`,
      REDIS_SESSIONS_PREFIX: `${run}:sessions:`,
      RATE_LIMIT_REDIS_PREFIX: `${run}:rate-limit:`,
      RESPONSE_CACHE_REDIS_PREFIX: `${run}:response-cache:`,
    };
    const stack = await forkStack({ ROUTER_SIGNING_KEYS: routerKey, SEED_SCALE, ...noLimits, ...redis });
    stacks.push(stack);
    for (const mode of ['on', 'off'] as const) {
      const router = await startRouterProcess({
        ROUTER_SIGNING_KEYS: routerKey,
        SUPERGRAPH_PATH: stack.supergraphPath,
        JWKS_URL: stack.jwksUrl,
        NODE_ENV: 'production',
        RESPONSE_CACHE: mode === 'on' ? 'true' : 'false',
        ...noLimits,
        ...redis,
      });
      routers.push(router);
      targets[mode] = router.url;
    }
    shape = 'router processes, cache in Redis (REDIS_URL)';
  } else {
    for (const mode of ['on', 'off'] as const) {
      const stack = await forkStack({ ROUTER_SIGNING_KEYS: routerKey, SEED_SCALE, RESPONSE_CACHE: mode === 'on' ? 'true' : 'false', ...noLimits });
      stacks.push(stack);
      targets[mode] = stack.routerUrl;
    }
    shape = 'embedded routers (one stack process each), cache in memory';
  }

  console.log(`catalog page, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per round, ${ROUNDS} rounds; ${shape}`);
  // Plans, connections and (when on) the cache warmed before anything is measured.
  for (const mode of ['on', 'off'] as const) await load(targets[mode], 2);

  const totals: Record<'on' | 'off', Round & { seconds: number }> = {
    on: { requests: 0, failures: 0, ms: [], seconds: 0 },
    off: { requests: 0, failures: 0, ms: [], seconds: 0 },
  };
  const rows: string[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    for (const mode of order) {
      const round = await load(targets[mode], SECONDS);
      const total = totals[mode];
      total.requests += round.requests;
      total.failures += round.failures;
      total.ms.push(...round.ms);
      total.seconds += SECONDS;
      const sorted = round.ms.sort((a, b) => a - b);
      rows.push([`round ${r + 1} cache ${mode}`, (round.requests / SECONDS).toFixed(0), percentile(sorted, 50).toFixed(1), percentile(sorted, 99).toFixed(1), String(round.failures)]);
    }
  }
  const summary = (mode: 'on' | 'off') => {
    const t = totals[mode];
    const sorted = t.ms.sort((a, b) => a - b);
    return { rps: t.requests / t.seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), failures: t.failures };
  };
  const on = summary('on');
  const off = summary('off');
  for (const [mode, s] of [['on', on], ['off', off]] as const) {
    rows.push([`all rounds cache ${mode}`, s.rps.toFixed(0), s.p50.toFixed(1), s.p99.toFixed(1), String(s.failures)]);
  }
  console.log(table(['', 'requests/s', 'p50 ms', 'p99 ms', 'failed'], rows));
  console.log(`cache on / off: ${(on.rps / off.rps).toFixed(1)}x the requests per second, p50 ${(off.p50 / on.p50).toFixed(1)}x lower, p99 ${(off.p99 / on.p99).toFixed(1)}x lower`);
} finally {
  for (const router of routers) await router.stop();
  for (const stack of stacks) await stack.stop();
}
