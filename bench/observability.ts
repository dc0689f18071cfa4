/**
 * Benchmark: what tracing costs the router's throughput (`npm run bench:observability`), with
 * metrics scraped every second as Prometheus would. Two identical setups run side by side, each a
 * stack process (the subgraphs, lib/stack-process.ts) and a router process (its real entry point,
 * NODE_ENV=production, lib/router-process.ts):
 *
 *   off     tracing off, the default (no OTEL_EXPORTER_OTLP_ENDPOINT); metrics collected
 *   on      tracing on in the router and every subgraph, exporting to a local OTLP/HTTP receiver
 *           that answers at once (lib/otlp-receiver.ts), so the cost measured is the services' own
 *   before  with `-- --against DIR`: the same from another checkout (installed and generated, e.g.
 *           `git worktree add /tmp/before <commit before observability>`), which counts nothing
 *           per request and traces nothing: what metrics and tracing cost together
 *
 * Both are loaded in turn, never at once, in interleaved rounds (off/on, then on/off, ...) so that
 * a drift of the machine over the run falls on both alike. The load is a closed loop: a fixed
 * number of clients each send the README's catalog query (lib/normal-traffic.ts) and the next as
 * soon as the answer arrives, so throughput is what the router sustains. See docs/observability.md,
 * "Overhead".
 *
 *   BENCH_ROUNDS          rounds; each loads both setups once (default 3)
 *   BENCH_ROUND_SECONDS   load per setup and round (default 10)
 *   BENCH_CONCURRENCY     clients in flight (default 8: enough to keep two cores busy)
 *   BENCH_TIMEOUT_MS      deadline of one request (default 5000)
 *   BENCH_SEED_SCALE      demo data scale (default 1, the demo data of `npm start`)
 *   LOG_LEVEL             of every process (default warn: log lines cost the same in both setups
 *                         and would bury the tables)
 */
import type { Agent } from 'node:http';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { forkStack, type CampusStack } from './lib/campus-stack.ts';
import { now } from './lib/clock.ts';
import { agentFor, send } from './lib/http-request.ts';
import { CATALOG_QUERY } from './lib/normal-traffic.ts';
import { startOtlpReceiver } from './lib/otlp-receiver.ts';
import { startRouterProcess, type RouterProcess } from './lib/router-process.ts';
import { percentile, table } from './lib/stats.ts';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(env.BENCH_ROUND_SECONDS ?? 10) * 1000;
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 8);
const TIMEOUT_MS = Number(env.BENCH_TIMEOUT_MS ?? 5000);
const SEED_SCALE = env.BENCH_SEED_SCALE ?? '1';
const LOG_LEVEL = env.LOG_LEVEL ?? 'warn';
const SCRAPE_INTERVAL_MS = 1000;

// The "off" setup must not trace because of the shell the benchmark was started from: children
// inherit this process's environment (lib/campus-stack.ts, lib/router-process.ts).
for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name];

type Variant = 'before' | 'off' | 'on';
const againstAt = process.argv.indexOf('--against');
const AGAINST = againstAt >= 0 ? process.argv[againstAt + 1] : undefined;
if (againstAt >= 0 && !AGAINST) throw new Error('usage: npm run bench:observability [-- --against DIR]');
const VARIANTS: Variant[] = AGAINST ? ['before', 'off', 'on'] : ['off', 'on'];
interface Setup {
  variant: Variant;
  stack: CampusStack;
  router: RouterProcess;
  /** The router's and each subgraph's /metrics. */
  metricsUrls: string[];
}
interface Round {
  variant: Variant;
  round: number;
  seconds: number;
  latencies: number[];
  ok: number;
  errors: Map<string, number>;
  scrapes: number;
  scrapeFailures: number;
  scrapeMs: number[];
}

const started = Date.now();
const receiver = await startOtlpReceiver();
const setups: Setup[] = [];

async function startSetup(variant: Variant): Promise<Setup> {
  const routerKey = generateServiceKeyPem();
  const tracing: Record<string, string> = variant === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } : {};
  const root = variant === 'before' ? AGAINST : undefined;
  const stack = await forkStack({ ROUTER_SIGNING_KEYS: routerKey, SEED_SCALE, LOG_LEVEL, ...tracing }, undefined, root);
  const router = await startRouterProcess({
    ROUTER_SIGNING_KEYS: routerKey,
    SUPERGRAPH_PATH: stack.supergraphPath,
    JWKS_URL: stack.jwksUrl,
    NODE_ENV: 'production',
    LOG_LEVEL,
    // The load comes from one address far above the production limit; the limits are not what is measured.
    RATE_LIMIT_ENABLED: 'false',
    ...tracing,
  }, root);
  const subgraphs = Object.entries(stack.urls).filter(([name]) => name !== 'router');
  // The checkout compared against has no /metrics on its router: only its subgraphs' are scraped.
  const routerMetrics = variant === 'before' ? [] : [new URL('/metrics', router.url).href];
  return { variant, stack, router, metricsUrls: [...routerMetrics, ...subgraphs.map(([, url]) => new URL('/metrics', url).href)] };
}

/** GET every /metrics of the setup each second while the load runs, as a Prometheus scraping them would. */
function scrapeEverySecond(setup: Setup, round: Round, agent: Agent): () => Promise<void> {
  let pending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    pending = Promise.all(
      setup.metricsUrls.map(async (url) => {
        const outcome = await send({ method: 'GET', url, agent, timeoutMs: TIMEOUT_MS });
        round.scrapes += 1;
        // A scrape answers text, which http-request.ts labels "(not JSON)": any 200 is a good scrape.
        if (!/^(ok|HTTP 200 \(not JSON\))$/.test(outcome.label)) round.scrapeFailures += 1;
        round.scrapeMs.push(outcome.ms);
      }),
    );
  }, SCRAPE_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    await pending;
  };
}

async function load(setup: Setup, roundNumber: number, ms: number): Promise<Round> {
  const round: Round = { variant: setup.variant, round: roundNumber, seconds: ms / 1000, latencies: [], ok: 0, errors: new Map(), scrapes: 0, scrapeFailures: 0, scrapeMs: [] };
  // Fresh connections per round: a keep-alive socket left idle while the other setup was loaded
  // may be closed by the server just as it is reused (ECONNRESET), which is not the router's doing.
  const agent = agentFor('127.0.0.1', CONCURRENCY + setup.metricsUrls.length);
  const stopScraping = scrapeEverySecond(setup, round, agent);
  const start = now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (now() < until) {
        const outcome = await send({ method: 'POST', url: setup.router.url, body: { query: CATALOG_QUERY, operationName: 'Catalog' }, agent, timeoutMs: TIMEOUT_MS });
        round.latencies.push(outcome.ms);
        if (outcome.label === 'ok') round.ok += 1;
        else round.errors.set(outcome.label, (round.errors.get(outcome.label) ?? 0) + 1);
      }
    }),
  );
  round.seconds = (now() - start) / 1000;
  await stopScraping();
  agent.destroy();
  return round;
}

const fmtMs = (v: number) => `${v.toFixed(1)} ms`;
const ratio = (on: number, off: number) => `${(on / off).toFixed(3)}x`;

try {
  // One after the other: two stacks seeding at once would only take longer.
  for (const variant of VARIANTS) setups.push(await startSetup(variant));
  const byVariant = (v: Variant) => setups.find((s) => s.variant === v)!;
  // Warm-up (JIT, plan cache, connections, the exporter's first batches), not reported.
  for (const setup of setups) await load(setup, 0, 3_000);
  const tracedBefore = receiver.received();

  const rounds: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const order: Variant[] = r % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const result = await load(byVariant(variant), r, ROUND_MS);
      rounds.push(result);
      const sorted = [...result.latencies].sort((a, b) => a - b);
      console.log(
        `round ${r} ${variant.padEnd(6)}: ${(result.ok / result.seconds).toFixed(1)} req/s, p50 ${fmtMs(percentile(sorted, 50))}, ` +
          `p99 ${fmtMs(percentile(sorted, 99))}, ${result.latencies.length - result.ok} errors, ${result.scrapes} scrapes`,
      );
    }
  }
  const traced = receiver.received();

  const summary = (v: Variant) => {
    const mine = rounds.filter((r) => r.variant === v);
    const latencies = mine.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const scrapeMs = mine.flatMap((r) => r.scrapeMs).sort((a, b) => a - b);
    const seconds = mine.reduce((s, r) => s + r.seconds, 0);
    const ok = mine.reduce((s, r) => s + r.ok, 0);
    const errors = new Map<string, number>();
    for (const r of mine) for (const [label, n] of r.errors) errors.set(label, (errors.get(label) ?? 0) + n);
    return {
      rps: ok / seconds,
      perRound: mine.map((r) => r.ok / r.seconds),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      sent: latencies.length,
      errors,
      scrapes: mine.reduce((s, r) => s + r.scrapes, 0),
      scrapeFailures: mine.reduce((s, r) => s + r.scrapeFailures, 0),
      scrapeP50: percentile(scrapeMs, 50),
    };
  };
  const off = summary('off');
  const on = summary('on');
  const before = AGAINST ? summary('before') : undefined;
  const errorsOf = (s: typeof off) => [...s.errors.values()].reduce((a, b) => a + b, 0);
  const roundRatios = off.perRound.map((o, i) => on.perRound[i]! / o);

  console.log(
    [
      '',
      `Observability benchmark: ${ROUNDS} interleaved round${ROUNDS === 1 ? '' : 's'} of ${ROUND_MS / 1000} s per setup, ` +
        `${CONCURRENCY} clients in a closed loop sending the README's catalog query, /metrics of the router and every subgraph ` +
        `scraped every ${SCRAPE_INTERVAL_MS / 1000} s, seed scale ${SEED_SCALE}, LOG_LEVEL=${LOG_LEVEL}, node ${process.version}, ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s`,
      table(
        ['catalog query', 'tracing off', 'tracing on', 'on / off'],
        [
          ['requests/s (answered ok)', off.rps.toFixed(1), on.rps.toFixed(1), ratio(on.rps, off.rps)],
          ['p50', fmtMs(off.p50), fmtMs(on.p50), ratio(on.p50, off.p50)],
          ['p99', fmtMs(off.p99), fmtMs(on.p99), ratio(on.p99, off.p99)],
          ['requests sent', String(off.sent), String(on.sent), ''],
          ['errors', String(errorsOf(off)), String(errorsOf(on)), ''],
          ['scrapes (failed)', `${off.scrapes} (${off.scrapeFailures})`, `${on.scrapes} (${on.scrapeFailures})`, ''],
          ['scrape p50', fmtMs(off.scrapeP50), fmtMs(on.scrapeP50), ''],
        ],
      ),
      `requests/s per round, on / off: ${roundRatios.map((r) => `${r.toFixed(3)}x`).join(', ')}`,
      ...(before
        ? [
            `against ${AGAINST} (no per-request metrics, no tracing; its /metrics scraped where it has one):`,
            table(
              ['catalog query', 'before', 'off / before', 'on / before'],
              [
                ['requests/s (answered ok)', before.rps.toFixed(1), ratio(off.rps, before.rps), ratio(on.rps, before.rps)],
                ['p50', fmtMs(before.p50), ratio(off.p50, before.p50), ratio(on.p50, before.p50)],
                ['p99', fmtMs(before.p99), ratio(off.p99, before.p99), ratio(on.p99, before.p99)],
                ['errors', String(errorsOf(before)), '', ''],
              ],
            ),
          ]
        : []),
      `OTLP receiver during the rounds: ${traced.exports - tracedBefore.exports} trace exports, ` +
        `${((traced.bytes - tracedBefore.bytes) / 2 ** 20).toFixed(1)} MiB` +
        (traced.otherPaths ? `; ${traced.otherPaths} requests to other paths` : ''),
      ...[...off.errors, ...on.errors].length
        ? ['Errors: ' + [...[...off.errors].map(([l, n]) => `off ${l} x${n}`), ...[...on.errors].map(([l, n]) => `on ${l} x${n}`)].join(', ')]
        : [],
    ].join('\n'),
  );
  if (traced.exports === tracedBefore.exports) {
    console.log('WARNING: the "on" setup exported no spans during the rounds: tracing did not start, so both columns measure tracing off.');
    process.exitCode = 1;
  }
} finally {
  await Promise.all(setups.flatMap((s) => [s.router.stop(), s.stack.stop()]));
  await receiver.close();
}
