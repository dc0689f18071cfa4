/**
 * Benchmark: what hostile requests do to everyone else (`npm run bench:edge`). Normal traffic (the
 * README's catalog query and GET /health, at a steady modest rate) runs throughout; phases
 * alternate baseline (normal traffic only) and attack (the same, while the hostile requests of
 * lib/hostile-operations.ts are fired continuously), and the normal traffic's latency under attack
 * is reported as a ratio to the baseline just before it. See docs/edge/benchmark.md.
 *
 * Four processes, so none measures another's CPU or memory: the stack (subgraphs seeded on the
 * embedded default, lib/stack-process.ts), the router (its real entry point, NODE_ENV=production,
 * lib/router-process.ts), the attacker (lib/attacker-process.ts) and this one, which only sends
 * the normal traffic and times it. Every request has a client-side deadline, and the router and
 * the stack are stopped with SIGKILL if SIGTERM does not end them, so a stalled router cannot hang
 * the run; if either dies under attack, the run stops at that phase and says so.
 *
 *   BENCH_PHASE_SECONDS      length of each baseline and attack phase (default 10)
 *   BENCH_PAIRS              baseline/attack pairs (default 2)
 *   BENCH_WORKERS            normal-traffic workers (default 4)
 *   BENCH_RATE               normal requests per second, all workers (default 20)
 *   BENCH_TIMEOUT_MS         deadline of a normal request (default 5000)
 *   BENCH_ATTACK_TIMEOUT_MS  deadline of a hostile request (default 30000)
 *   BENCH_RECOVERY_SECONDS   longest wait for the router to answer promptly after an attack (default 15)
 *   BENCH_ATTACKS            hostile kinds to fire, comma-separated (default: all of lib/hostile-operations.ts)
 *   BENCH_TARGET             router (default: its own process) or stack (the router inside the stack
 *                            process, as `npm start` runs it)
 *   BENCH_SEED_SCALE         demo data scale (default 2: full 100-course catalog pages)
 *   LOG_LEVEL                of the router and the stack (default fatal: quiet tables)
 *   REDIS_URL, and the router's own variables (.env.example), pass through to both processes.
 */
import { generateServiceKeyPem } from '@campus/kit/identity';
import { forkAttackers } from './lib/attackers.ts';
import { forkStack } from './lib/campus-stack.ts';
import { attackTable, LEGEND, normalErrors, normalTable, summarize, type PhaseResult } from './lib/edge-report.ts';
import { now } from './lib/clock.ts';
import { HOSTILE_KINDS } from './lib/hostile-operations.ts';
import { agentFor, send } from './lib/http-request.ts';
import { CATALOG_QUERY, startNormalTraffic, type NormalTrafficOptions } from './lib/normal-traffic.ts';
import { waitResponsive } from './lib/responsive.ts';
import { startRouterProcess } from './lib/router-process.ts';
import { rssOf, watchRss } from './lib/rss.ts';

const env = process.env;
const PHASE_MS = Number(env.BENCH_PHASE_SECONDS ?? 10) * 1000;
const PAIRS = Number(env.BENCH_PAIRS ?? 2);
const WORKERS = Number(env.BENCH_WORKERS ?? 4);
const RATE = Number(env.BENCH_RATE ?? 20);
const TIMEOUT_MS = Number(env.BENCH_TIMEOUT_MS ?? 5000);
const ATTACK_TIMEOUT_MS = Number(env.BENCH_ATTACK_TIMEOUT_MS ?? 30_000);
const RECOVERY_MS = Number(env.BENCH_RECOVERY_SECONDS ?? 15) * 1000;
const ATTACKS = env.BENCH_ATTACKS ? env.BENCH_ATTACKS.split(',').map((k) => k.trim()) : HOSTILE_KINDS.map((k) => k.name);
const TARGET = env.BENCH_TARGET ?? 'router';
const SEED_SCALE = env.BENCH_SEED_SCALE ?? '2';

const unknown = ATTACKS.filter((a) => !HOSTILE_KINDS.some((k) => k.name === a));
if (unknown.length) throw new Error(`BENCH_ATTACKS: unknown kinds ${unknown.join(', ')} (known: ${HOSTILE_KINDS.map((k) => k.name).join(', ')})`);
if (TARGET !== 'router' && TARGET !== 'stack') throw new Error('BENCH_TARGET must be "router" or "stack"');

// The stack's subgraphs trust this key, and the benchmarked router process signs with it.
const routerKey = generateServiceKeyPem();
const started = Date.now();
// Quiet by default: under attack the router logs every failed subgraph fetch, which would bury the
// tables. A process that dies still says why (V8 and Node write to stderr whatever the level).
const LOG_LEVEL = env.LOG_LEVEL ?? 'fatal';
const stack = await forkStack({ ROUTER_SIGNING_KEYS: routerKey, SEED_SCALE, LOG_LEVEL });
const router =
  TARGET === 'router'
    ? await startRouterProcess({
        ROUTER_SIGNING_KEYS: routerKey,
        SUPERGRAPH_PATH: stack.supergraphPath,
        JWKS_URL: stack.jwksUrl,
        NODE_ENV: 'production',
        LOG_LEVEL,
      })
    : undefined;
const graphqlUrl = router?.url ?? stack.routerUrl;
const healthUrl = new URL('/health', graphqlUrl).href;
const routerPid = router?.pid ?? stack.pid;
/** VmHWM while the process lives; once it has died, the highest of the phases' samples. */
const runPeak = (hwm: number, samples: number[]) => Math.max(...[hwm, ...samples].filter((v) => !Number.isNaN(v)));
/** Which of the benchmarked processes has ended (an OOM kill, a crash), if any. */
const deaths = () =>
  [
    router?.exited() && `the router process ended (${router.exited()})`,
    stack.exited() && `the stack process (subgraphs${router ? '' : ' and router'}) ended (${stack.exited()})`,
  ].filter((d): d is string => !!d);
const attackers = forkAttackers();
const routerRss = watchRss(routerPid);
const stackRss = watchRss(stack.pid);
const normalAgent = agentFor('127.0.0.1', WORKERS + 2);

try {
  // Each hostile kind from its own loopback address (lib/http-request.ts); where only 127.0.0.1
  // exists, everything shares it and a per-address rate limit will refuse normal traffic too.
  const probeAgent = agentFor('127.0.0.2', 1);
  const probe = await send({ method: 'GET', url: healthUrl, agent: probeAgent, timeoutMs: 5_000 });
  probeAgent.destroy();
  const ownAddresses = probe.label === 'ok';
  if (!ownAddresses) console.warn(`warning: cannot send from 127.0.0.2 (${probe.label}); every kind of traffic leaves from 127.0.0.1`);
  const addresses = Object.fromEntries(
    HOSTILE_KINDS.map((k) => [k.name, ownAddresses ? `127.0.0.${k.addressOctet}` : '127.0.0.1']),
  );

  // /health answers once the supergraph is loaded, which can be before the router plans its first
  // operation (planner-pool.ts counts a plan's budget from the request): retried, and reported.
  const firstAnswer = now();
  const earlyFailures: string[] = [];
  let matched: number | undefined;
  for (;;) {
    const check = await send({
      method: 'POST',
      url: graphqlUrl,
      body: { query: CATALOG_QUERY, operationName: 'Catalog' },
      agent: normalAgent,
      timeoutMs: 10_000,
      keepBody: true,
    });
    matched = (check.body as { data?: { courses?: { totalCount?: number } } } | undefined)?.data?.courses?.totalCount;
    if (check.label === 'ok' && matched !== undefined) break;
    earlyFailures.push(check.label);
    if (now() - firstAnswer > 60_000) throw new Error(`the README's catalog query fails: ${earlyFailures.join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const readyNote = earlyFailures.length
    ? `The catalog query first answered ${((now() - firstAnswer) / 1000).toFixed(1)} s after /health did; before that: ${earlyFailures.join(', ')}.`
    : undefined;

  const traffic: NormalTrafficOptions = { graphqlUrl, healthUrl, agent: normalAgent, workers: WORKERS, ratePerSecond: RATE, timeoutMs: TIMEOUT_MS };
  // Warm-up (JIT, query plan cache, connections), not reported.
  const warmUp = startNormalTraffic(traffic);
  await new Promise((r) => setTimeout(r, 3_000));
  await warmUp.stop();

  const phases: PhaseResult[] = [];
  const phase = async (kind: PhaseResult['kind'], pair: number): Promise<PhaseResult> => {
    routerRss.reset();
    stackRss.reset();
    const normal = startNormalTraffic(traffic);
    if (kind === 'attack') await attackers.start({ url: graphqlUrl, kinds: ATTACKS, addresses, timeoutMs: ATTACK_TIMEOUT_MS });
    await new Promise((r) => setTimeout(r, PHASE_MS));
    const attack = kind === 'attack' ? await attackers.stop() : undefined;
    const samples = await normal.stop();
    const result: PhaseResult = {
      kind,
      pair,
      normal: { catalog: summarize(samples, 'catalog'), health: summarize(samples, 'health') },
      routerPeakRss: routerRss.peak(),
      stackPeakRss: stackRss.peak(),
      ...(attack ? { attack } : {}),
    };
    if (kind === 'attack' && !deaths().length) {
      const { ms, recovered } = await waitResponsive({ graphqlUrl, healthUrl, agent: normalAgent, capMs: RECOVERY_MS });
      result.recoveryMs = ms;
      result.recovered = recovered;
    }
    const c = result.normal.catalog;
    console.log(
      `${kind} ${pair}: catalog p50 ${c.p50.toFixed(1)} ms, p99 ${c.p99.toFixed(1)} ms, ${c.errors} errors of ${c.sent}` +
        (result.recoveryMs === undefined ? '' : `; ${result.recovered ? '' : 'not '}recovered after ${(result.recoveryMs / 1000).toFixed(1)} s`),
    );
    return result;
  };

  // A process that died ends the run: later phases would measure connection errors.
  let diedDuring: string | undefined;
  for (let pair = 1; pair <= PAIRS && !diedDuring; pair++) {
    for (const kind of ['baseline', 'attack'] as const) {
      phases.push(await phase(kind, pair));
      if (deaths().length) {
        diedDuring = `${kind} ${pair}`;
        break;
      }
    }
  }

  console.log(
    [
      '',
      `Edge benchmark: ${TARGET === 'router' ? 'router in its own process (NODE_ENV=production)' : 'router inside the stack process'}, ` +
        `${PAIRS} baseline/attack pair${PAIRS === 1 ? '' : 's'} of ${PHASE_MS / 1000} s phases, ${RATE} normal req/s over ${WORKERS} workers, ` +
        `attacks: ${ATTACKS.join(', ')}, node ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      `The README's catalog query matches ${matched} courses of the demo data (seed scale ${SEED_SCALE})` +
        (matched ? '.' : ': its answer needs only the courses subgraph (no instructor fetch from users).'),
      ...(readyNote ? [readyNote] : []),
      normalTable(phases),
      '',
      attackTable(phases),
      ...HOSTILE_KINDS.filter((k) => ATTACKS.includes(k.name)).map(
        (k) => `  ${k.name.padEnd(8)} ${k.description}; ${k.concurrency} in flight, from ${addresses[k.name]}`,
      ),
      '',
      ...(normalErrors(phases).length ? ['Normal-traffic errors:', ...normalErrors(phases), ''] : []),
      `Router peak RSS over the run: ${(runPeak(rssOf(routerPid).peak, phases.map((p) => p.routerPeakRss)) / 2 ** 20).toFixed(0)} MiB`,
      ...(diedDuring ? [`DIED during ${diedDuring} (the run stopped there): ${deaths().join('; ')}`] : []),
      '',
      LEGEND,
    ].join('\n'),
  );
  if (diedDuring) process.exitCode = 1;
} finally {
  routerRss.stop();
  stackRss.stop();
  normalAgent.destroy();
  // Together: a stalled router and a swamped stack each take their grace period before SIGKILL.
  await Promise.all([attackers.close(), router?.stop(), stack.stop()]);
}
