/**
 * What the router's /ready checks (docs/readiness.md), on the mechanism every service shares
 * (@campus/kit/core readiness.ts):
 *
 *   supergraph  a supergraph is loaded (the file may not exist yet)
 *   planner     a planner thread has started and threads are not failing to start: before that
 *               every new operation would wait or time out (planning/planner-pool.ts)
 *               (both read the router's own state: asked on every probe, never reused)
 *   subgraphs   each subgraph of the supergraph answers its /health (liveness) in time; kept for
 *               SUBGRAPHS_CACHE_MS, so probes of many router instances do not multiply into
 *               calls to every subgraph. A 404 counts as an answer: the router serves any
 *               Federation 2 supergraph, and a subgraph not built with our kit may have no /health
 *   redis       when REDIS_URL is set (rate-limit counters, session revocations)
 */
import { CheckFailed, createReadiness, errorReason, redisCheck, type Readiness, type ReadinessCheck } from '@campus/kit/core';
import type { SupergraphTracker } from './planning/supergraph-state.ts';

export const SUBGRAPHS_CACHE_MS = 2_000;
/** Below the check's own timeout (1 s), so a hung subgraph is named rather than the whole check timing out. */
const SUBGRAPH_TIMEOUT_MS = 800;

export interface RouterReadinessDeps {
  tracker: SupergraphTracker;
  /** True once the gateway has loaded a supergraph. */
  supergraphLoaded(): boolean;
  /** True once the first planner thread has started. */
  plannerStarted(): boolean;
  redisUrl: string | undefined;
}

type SubgraphHealth = { status: 'up'; latencyMs: number; note?: string } | { status: 'down'; error: string; latencyMs: number };

async function subgraphHealth(graphqlUrl: string, signal: AbortSignal): Promise<SubgraphHealth> {
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(new URL('/health', graphqlUrl), { signal: AbortSignal.any([signal, AbortSignal.timeout(SUBGRAPH_TIMEOUT_MS)]) });
    await res.body?.cancel();
    if (res.ok) return { status: 'up', latencyMs: latencyMs() };
    if (res.status === 404) return { status: 'up', latencyMs: latencyMs(), note: 'no /health (HTTP 404); it answers' };
    return { status: 'down', error: `HTTP ${res.status}`, latencyMs: latencyMs() };
  } catch (err) {
    const error = (err as Error).name === 'TimeoutError' ? `no answer within ${SUBGRAPH_TIMEOUT_MS} ms` : errorReason(err);
    return { status: 'down', error, latencyMs: latencyMs() };
  }
}

export function routerReadiness({ tracker, supergraphLoaded, plannerStarted, redisUrl }: RouterReadinessDeps): Readiness {
  const checks: ReadinessCheck[] = [
    {
      name: 'supergraph',
      local: true,
      async run() {
        const state = tracker.current();
        if (!supergraphLoaded() || !state) throw new Error('waiting for a supergraph');
        return { version: state.version };
      },
    },
    {
      name: 'planner',
      local: true,
      async run() {
        if (!plannerStarted()) throw new Error('starting the query planner');
        if (!tracker.plannerHealthy()) throw new Error('query planner threads failing to start');
      },
    },
    {
      name: 'subgraphs',
      cacheMs: SUBGRAPHS_CACHE_MS,
      // A new supergraph may name other subgraphs (or the first one arrives): ask them at once.
      cacheKey: () => tracker.current()?.version,
      async run(signal) {
        const urls = tracker.current()?.urls;
        if (!urls) throw new Error('no supergraph loaded: no subgraphs known');
        const results = Object.fromEntries(
          await Promise.all([...urls].map(async ([name, url]) => [name, await subgraphHealth(url, signal)] as const)),
        );
        const down = Object.entries(results).filter(([, r]) => r.status === 'down');
        if (down.length) {
          throw new CheckFailed(down.map(([name, r]) => `${name}: ${(r as { error: string }).error}`).join('; '), { subgraphs: results });
        }
        return { subgraphs: results };
      },
    },
  ];
  if (redisUrl) checks.push(redisCheck(redisUrl));
  return createReadiness('router', checks);
}
