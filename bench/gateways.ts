/**
 * Benchmark: the Campus router against a plain @apollo/gateway, side by side in one run
 * (`npm run bench:gateways`, which builds first; docs/performance.md). The measuring stick of the
 * router's performance work: every figure is also given as a ratio to the plain gateway measured
 * in the same run, so a change of the router shows as a change of its ratios.
 *
 * Gateways (lib/gateways/variants.ts), each in its own process alone on one core (taskset):
 *   plain    @apollo/gateway on @apollo/server 5's startStandaloneServer (lib/gateways/plain-gateway.mjs)
 *   router   the Campus router's production build, `node router/dist/index.js`, NODE_ENV=production,
 *            every production feature on (operation limits, demand control, rate limits with a
 *            ceiling no benchmark reaches, metrics, signed subgraph requests; tracing off)
 *   + dedup  rows for in-flight deduplication of identical subgraph fetches: the router's with
 *            SUBGRAPH_DEDUP=true (the router row runs with it false); n/a for the plain gateway,
 *            which has none
 *   router xN workers   the same router with ROUTER_WORKERS=N (router/src/cluster/), on N cores:
 *            the gateways' core and N - 1 of the others, which it shares with the subgraphs and
 *            the load generator (on a 2-core machine, every core); CPU and RSS summed over its processes
 *
 * Workloads (lib/gateways/queries.ts, lib/gateways/workloads.ts):
 *   (a) the public gateways benchmark's four subgraphs: deep (its TestQuery), small, onehop
 *   (b) Campus's own supergraph on seeded data: catalog, learning, payments
 *
 * Per query, in interleaved rounds (the gateways' order reversed every other round): a closed loop
 * of BENCH_CONNECTIONS keep-alive connections for BENCH_WARMUP_SECONDS (not recorded) and then
 * BENCH_SECONDS; reported are the medians over the rounds. Before the rounds, each query is sent
 * once, alone, to each gateway: its answer must equal the plain gateway's (else the run fails) and
 * the subgraph fetches it caused are counted.
 *
 *   BENCH_ROUNDS          rounds (default 3)
 *   BENCH_SECONDS         measured seconds per gateway, query and round (default 10)
 *   BENCH_WARMUP_SECONDS  unrecorded load before each (default 2)
 *   BENCH_CONNECTIONS     connections in flight (default 50)
 *   BENCH_QUERIES         comma-separated query names (default all: deep,small,onehop,catalog,learning,payments)
 *   BENCH_GATEWAY_CORE    the core the gateways run on (default the last); the rest run on the others
 *   BENCH_VERIFY          signed (default): workload (a)'s subgraphs verify the router's signatures
 *                         as Campus subgraphs do; off: they verify nothing
 *   BENCH_SEED_SCALE      workload (b)'s demo data scale (default 1)
 *   BENCH_TIMEOUT_MS      deadline of one request (default 30000)
 *   BENCH_ROUTER_WORKERS  the router's worker counts, comma-separated (default 1,2): one row each
 *   BENCH_CPU_PROF        a directory: the router runs with --cpu-prof there (profiles written when it stops)
 *   BENCH_ALLOC_PROF      a directory: the router samples every allocation, freed ones too, and writes
 *                         the profile there when it stops (lib/gateways/allocation-sampling.mjs)
 *   LOG_LEVEL             of the gateways and subgraphs (default warn)
 */
import { deepStrictEqual } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@campus/test-kit';
import { watchRss } from './lib/rss.ts';
import { percentile } from './lib/stats.ts';
import { cpuSecondsOf, startGateway, treeRss, type GatewayProcess } from './lib/gateways/gateway-process.ts';
import { runLoad } from './lib/gateways/load.ts';
import { setUpPinning } from './lib/gateways/pinning.ts';
import { QUERIES, selectQueries, type BenchQuery, type WorkloadName } from './lib/gateways/queries.ts';
import { queryTable, startTable, type QueryFacts, type RoundSample } from './lib/gateways/report.ts';
import { gatewayVariants, PLAIN, routerWorkerCounts, type GatewayVariant } from './lib/gateways/variants.ts';
import { startBenchmarkSubgraphs, startCampusStack, type Workload } from './lib/gateways/workloads.ts';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const TIMEOUT_MS = Number(env.BENCH_TIMEOUT_MS ?? 30_000);
const IDLE_SECONDS = 5;
const VERIFY = env.BENCH_VERIFY === 'off' ? 'off' : 'signed';
const SEED_SCALE = env.BENCH_SEED_SCALE ?? '1';
const LOG_LEVEL = env.LOG_LEVEL ?? 'warn';
const CPU_PROF = env.BENCH_CPU_PROF ? resolve(env.BENCH_CPU_PROF) : undefined;
const ALLOC_PROF = env.BENCH_ALLOC_PROF ? resolve(env.BENCH_ALLOC_PROF) : undefined;
const ALLOCATION_SAMPLING = join(import.meta.dirname, 'lib', 'gateways', 'allocation-sampling.mjs');
const SELECTED = selectQueries(env.BENCH_QUERIES);
for (const [name, v] of Object.entries({ BENCH_ROUNDS: ROUNDS, BENCH_SECONDS: SECONDS, BENCH_CONNECTIONS: CONNECTIONS })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
}

const REPO = fileURLToPath(new URL('../', import.meta.url));
const ROUTER_ENTRY = join(REPO, 'router/dist/index.js');
const PLAIN_ENTRY = fileURLToPath(new URL('./lib/gateways/plain-gateway.mjs', import.meta.url));
if (!existsSync(ROUTER_ENTRY)) throw new Error(`${ROUTER_ENTRY} is missing: run \`npm run build\` first (npm run bench:gateways does).`);

// Children inherit this environment: no tracing anywhere, and no Redis (rate-limit counters and
// session revocations in memory), whatever the shell that started the benchmark has set.
for (const name of Object.keys(env)) if (name.startsWith('OTEL_') || name === 'REDIS_URL') delete env[name];

const pinning = setUpPinning(env.BENCH_GATEWAY_CORE);
const variants = gatewayVariants(routerWorkerCounts(env.BENCH_ROUTER_WORKERS));
for (const v of variants.filter((v) => (v.workers ?? 1) > 1 && !v.unavailable)) {
  // The figures of a multi-core row are not a clean per-core comparison: say so where they are read.
  pinning.warnings.push(
    pinning.gatewayCore === undefined
      ? `${v.name}: not pinned; its ${v.workers} processes share every core with the subgraphs and the load generator.`
      : `${v.name}: pinned to cores ${pinning.command(['node'], v.workers).args[1]}, all but core ${pinning.gatewayCore} shared with the subgraphs and the load generator (on cores ${pinning.otherCores}): its figures are not per core.`,
  );
}
const running = variants.filter((v) => !v.unavailable);
const tmp = mkdtempSync(join(tmpdir(), 'campus-bench-gateways-'));
for (const dir of [CPU_PROF, ALLOC_PROF]) if (dir) mkdirSync(dir, { recursive: true });
const started = Date.now();
const loadAtStart = loadavg();

/**
 * The router as production runs it, plus what the benchmark needs: a rate limit no benchmark
 * reaches (the load comes from one address, far above RATE_LIMIT_PER_ADDRESS), and a demand
 * control ceiling above the deep query's estimate (the public TestQuery's lists have no
 * @listSize, so each counts DEMAND_CONTROL_DEFAULT_LIST_SIZE items: 24,420, over the default
 * 10,000, and refused with OPERATION_TOO_EXPENSIVE). Both checks still run on every request;
 * every other limit keeps its production default.
 */
function routerEnv(workload: Workload, variant: GatewayVariant): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL,
    SUPERGRAPH_PATH: workload.supergraphPath,
    JWKS_URL: workload.jwksUrl,
    ROUTER_SIGNING_KEYS: workload.routerKey,
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_PER_ADDRESS: '1000000000',
    RATE_LIMIT_PER_USER: '1000000000',
    DEMAND_CONTROL_MAX_COST: '1000000',
    ...variant.env,
  };
}

async function startVariant(workload: Workload, variant: GatewayVariant, probe: BenchQuery): Promise<GatewayProcess> {
  const common = { cwd: REPO, logDir: tmp, pinning, probe: { body: probe.body } };
  if (variant.kind === 'plain') {
    return startGateway({
      ...common,
      name: `${variant.name} (${workload.name})`,
      nodeArgs: [PLAIN_ENTRY],
      env: {
        NODE_ENV: 'production',
        SUPERGRAPH_PATH: workload.supergraphPath,
        PLAIN_GATEWAY_SIGN: String(workload.plainSigns),
        ROUTER_SIGNING_KEYS: workload.routerKey,
        ...variant.env,
      },
    });
  }
  // One profile per thread (the planner's too), named by Node (CPU.<date>.<pid>.<thread>.<n>.cpuprofile).
  const profile = [...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []), ...(ALLOC_PROF ? ['--import', ALLOCATION_SAMPLING] : [])];
  const environment = { ...routerEnv(workload, variant), ...(ALLOC_PROF ? { BENCH_ALLOC_PROF: ALLOC_PROF, BENCH_ALLOC_LABEL: variant.name.replace(/\W+/g, '-') } : {}) };
  const gateway = await startGateway({ ...common, name: `${variant.name} (${workload.name})`, nodeArgs: [...profile, ROUTER_ENTRY], env: environment, cores: variant.workers });
  // The first answer comes from the first worker ready; the load waits for all of them.
  if ((variant.workers ?? 1) > 1) await waitFor(async () => {
    const text = await (await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).text();
    return new RegExp(`^campus_router_workers_ready\\{[^}]*\\} ${variant.workers}$`, 'm').test(text);
  }, `${variant.name}: every worker ready`, 60_000);
  return gateway;
}

interface Answer {
  status: number;
  json: unknown;
  bytes: number;
}

async function ask(url: string, query: BenchQuery, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(query.body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, bytes: Buffer.byteLength(text) };
}

/**
 * Sends the query once to each gateway, alone, counting the subgraph fetches it causes; every
 * answer must be a good one and equal the plain gateway's, or the run stops here.
 */
async function checkQuery(workload: Workload, query: BenchQuery, gateways: Map<string, GatewayProcess>, headers: Record<string, string>): Promise<QueryFacts> {
  const answers = new Map<string, Answer>();
  const exactFetches = new Map<string, number>();
  for (const [name, gateway] of gateways) {
    const before = await workload.fetches();
    const answer = await ask(gateway.url, query, headers);
    exactFetches.set(name, (await workload.fetches()) - before);
    const body = answer.json as { data?: unknown; errors?: unknown };
    if (answer.status !== 200 || !body?.data || body.errors) {
      throw new Error(`${query.name}: ${name} did not answer it in full (HTTP ${answer.status}): ${JSON.stringify(answer.json).slice(0, 2000)}`);
    }
    answers.set(name, answer);
  }
  const reference = answers.get(PLAIN)!;
  for (const [name, answer] of answers) {
    if (name === PLAIN) continue;
    try {
      deepStrictEqual(answer.json, reference.json);
    } catch (e) {
      throw new Error(`${query.name}: the answer of ${name} differs from the plain gateway's:\n${(e as Error).message.slice(0, 4000)}`);
    }
  }
  const problems = await workload.problems();
  if (problems.length) throw new Error(`${query.name}: ${problems.join('; ')}`);
  return { exactFetches, answerBytes: reference.bytes };
}

async function measure(workload: Workload, query: BenchQuery, variant: GatewayVariant, gateway: GatewayProcess, round: number, headers: Record<string, string>): Promise<RoundSample> {
  const rss = watchRss(gateway.pid, 200, treeRss);
  // Fetches are counted over the whole load, from an idle gateway to an idle gateway (warm-up and
  // drain included), so that no request is counted half: exact, where a count over the window
  // alone would be off by the fetches of the requests in flight at its edges.
  const fetchesBefore = await workload.fetches();
  const mark = () => ({ time: performance.now(), cpu: cpuSecondsOf(gateway.pid), subgraphCpu: cpuSecondsOf(workload.subgraphsPid) });
  let start: ReturnType<typeof mark> | undefined;
  let end: ReturnType<typeof mark> | undefined;
  const result = await runLoad({
    url: gateway.url,
    body: query.body,
    headers,
    connections: CONNECTIONS,
    warmupMs: WARMUP_SECONDS * 1000,
    durationMs: SECONDS * 1000,
    timeoutMs: TIMEOUT_MS,
    onMeasureStart: () => {
      start = mark();
    },
    onMeasureEnd: () => {
      end = mark();
    },
  });
  const fetches = (await workload.fetches()) - fetchesBefore;
  const elapsed = (end!.time - start!.time) / 1000;
  const sample: RoundSample = {
    round,
    gateway: variant.name,
    query: query.name,
    rps: result.ok / result.seconds,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    sent: result.latencies.length,
    errors: result.errors,
    peakRss: rss.peak(),
    gatewayCpu: (end!.cpu - start!.cpu) / elapsed,
    cpuMsPerAnswer: ((end!.cpu - start!.cpu) * 1000) / Math.max(1, result.ok),
    subgraphCpu: (end!.subgraphCpu - start!.subgraphCpu) / elapsed,
    fetchesPerAnswer: fetches / Math.max(1, result.allRequests),
  };
  rss.stop();
  const errors = [...result.errors.values()].reduce((a, b) => a + b, 0);
  console.log(
    `  round ${round} ${query.name.padEnd(8)} ${variant.name.padEnd(17)} ${sample.rps.toFixed(0).padStart(6)} req/s  p50 ${sample.p50.toFixed(1)} ms  p99 ${sample.p99.toFixed(1)} ms  ` +
      `${errors} errors  gateway ${sample.gatewayCpu.toFixed(2)} cores (${sample.cpuMsPerAnswer.toFixed(2)} ms/answer), subgraphs ${sample.subgraphCpu.toFixed(2)}  ${sample.fetchesPerAnswer.toFixed(2)} fetches/answer`,
  );
  if (gateway.exited()) throw new Error(`${gateway.name} ended during the load (${gateway.exited()}); its log: ${gateway.logPath}`);
  return sample;
}

const samples: RoundSample[] = [];
const facts = new Map<string, QueryFacts>();
const starts: { workload: string; gateway: string; ms: number[] }[] = [];
const idle: { workload: string; gateway: string; cores: number }[] = [];

async function runWorkload(name: WorkloadName): Promise<void> {
  const queries = SELECTED.filter((q) => q.workload === name);
  if (!queries.length) return;
  console.log(`\nworkload (${name}): starting its subgraphs`);
  const workload = name === 'a' ? await startBenchmarkSubgraphs(tmp, VERIFY) : await startCampusStack(SEED_SCALE, LOG_LEVEL);
  const gateways = new Map<string, GatewayProcess>();
  try {
    console.log(`workload (${name}): ${workload.title}; signatures: ${workload.verification}`);
    // The probe that times the start: a cheap query every gateway answers without a token.
    const probe = QUERIES.find((q) => q.name === (name === 'a' ? 'small' : 'catalog'))!;
    await workload.warm(probe.body);
    // Started BENCH_ROUNDS times each, interleaved; the last start of each is the one measured.
    for (let sample = 1; sample <= ROUNDS; sample++) {
      for (const variant of sample % 2 === 1 ? running : [...running].reverse()) {
        const gateway = await startVariant(workload, variant, probe);
        let times = starts.find((s) => s.workload === name && s.gateway === variant.name);
        if (!times) starts.push((times = { workload: name, gateway: variant.name, ms: [] }));
        times.ms.push(gateway.startToFirstAnswerMs);
        console.log(`  ${variant.name}: first answer ${(gateway.startToFirstAnswerMs / 1000).toFixed(2)} s after spawn (pid ${gateway.pid})`);
        if (sample < ROUNDS) await gateway.stop();
        else gateways.set(variant.name, gateway);
      }
    }
    // What each gateway burns doing nothing (timers, metrics, the planner thread), over the same
    // seconds for all: it is in every CPU / answer figure, and weighs where answers are few.
    const idleStart = new Map([...gateways].map(([g, p]) => [g, cpuSecondsOf(p.pid)]));
    const idleFrom = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleSeconds = (performance.now() - idleFrom) / 1000;
    for (const [g, p] of gateways) {
      const cores = (cpuSecondsOf(p.pid) - idleStart.get(g)!) / idleSeconds;
      idle.push({ workload: name, gateway: g, cores });
      console.log(`  ${g}: ${cores.toFixed(3)} cores while idle (${IDLE_SECONDS} s)`);
    }
    let token = queries.some((q) => q.asStudent) ? await workload.studentToken() : undefined;
    const headersOf = (q: BenchQuery): Record<string, string> => (q.asStudent ? { authorization: `Bearer ${token}` } : {});
    for (const query of queries) {
      const f = await checkQuery(workload, query, gateways, headersOf(query));
      facts.set(query.name, f);
      console.log(`  ${query.name}: answers equal; subgraph fetches per request: ${[...f.exactFetches].map(([g, c]) => `${g} ${c}`).join(', ')}`);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // Tokens live 15 minutes (ACCESS_TOKEN_TTL_SECONDS): a fresh one each round.
      if (round > 1 && token) token = await workload.studentToken();
      const order = round % 2 === 1 ? running : [...running].reverse();
      console.log(`  round ${round}: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      for (const query of queries) {
        for (const variant of order) samples.push(await measure(workload, query, variant, gateways.get(variant.name)!, round, headersOf(query)));
      }
    }
    const problems = await workload.problems();
    if (problems.length) throw new Error(problems.join('; '));
  } finally {
    await Promise.all([...gateways.values()].map((g) => g.stop()));
    await workload.stop();
  }
}

let failed = true;
try {
  for (const warning of pinning.warnings) console.log(`WARNING: ${warning}`);
  console.log(
    `bench:gateways: ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} of ${SECONDS} s (+${WARMUP_SECONDS} s warm-up) per gateway and query, ${CONNECTIONS} connections; ` +
      `gateways on core ${pinning.gatewayCore ?? 'any'}, everything else on ${pinning.otherCores ?? 'any'}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  await runWorkload('a');
  await runWorkload('b');
  const loadAtEnd = loadavg();
  console.log(
    [
      '',
      `bench:gateways, node ${process.version}, ${ROUNDS} interleaved rounds of ${SECONDS} s (+${WARMUP_SECONDS} s warm-up), ${CONNECTIONS} connections, ` +
        `gateways pinned to core ${pinning.gatewayCore ?? 'none (not pinned)'}, ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
        `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}`,
      `workload (a) signatures: ${VERIFY === 'off' ? 'not verified (BENCH_VERIFY=off)' : "the router's verified at the subgraphs, the plain gateway's absent"}`,
      `(ratios) = gateway / plain in the same run (requests/s: higher is better; latency, memory: lower is better); figures are medians of the rounds, peak RSS the highest;`,
      `CPU: cores used during the window (1.00 = the gateway's whole core); CPU / answer: the gateway's CPU time per good answer, the figure least`,
      `disturbed by a bottleneck elsewhere; fetches / request: one request sent alone; n/a: not run (bench/lib/gateways/variants.ts):`,
      ...variants.filter((v) => v.unavailable).map((v) => `  ${v.name}: n/a, ${v.unavailable}`),
      '',
      ...SELECTED.flatMap((q) => [queryTable(q, variants, samples, facts.get(q.name)), '']),
      startTable(starts, idle, variants),
      ...(pinning.warnings.length ? ['', ...pinning.warnings.map((w) => `WARNING: ${w}`)] : []),
      ...(CPU_PROF ? [`\nrouter CPU profiles: ${CPU_PROF} (npx tsx bench/lib/gateways/profile-summary.ts FILE)`] : []),
      ...(ALLOC_PROF ? [`\nrouter allocation profiles: ${ALLOC_PROF} (npx tsx bench/lib/gateways/allocation-summary.ts FILE)`] : []),
    ].join('\n'),
  );
  failed = false;
} finally {
  // Kept when the run failed: the gateways' logs are there.
  if (failed) console.error(`gateway logs kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
