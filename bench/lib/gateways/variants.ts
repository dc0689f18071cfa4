/**
 * The gateways `npm run bench:gateways` compares, and how each is started. Four rows:
 *
 *   plain            @apollo/gateway + @apollo/server 5 startStandaloneServer (plain-gateway.mjs),
 *                    the reference every ratio is taken against; no dedup (it has none)
 *   router           the Campus router's production build (router/dist/index.js), every production
 *                    feature on, dedup of identical in-flight subgraph fetches off (SUBGRAPH_DEDUP=false)
 *   plain + dedup    n/a: @apollo/gateway cannot deduplicate in-flight subgraph fetches
 *   router + dedup   the same router with dedup on (SUBGRAPH_DEDUP=true, router/src/subgraph-dedup.ts)
 *
 * Workers (BENCH_ROUTER_WORKERS, default "1,2"): the router row runs ROUTER_WORKERS=1 (one process,
 * no cluster); each further count N adds a row "router xN workers" (router/src/cluster/), pinned
 * to N cores (pinning.ts): its CPU and memory figures are the sum over its processes.
 *
 * ROUTER_DEDUP is the environment that turns the router's in-flight deduplication on and the one
 * that turns it off (SUBGRAPH_DEDUP, router/src/config.ts). The "router" rows run with `off`, so
 * they stay the dedup-off figures whatever the router's default (on), and the "router + dedup" row
 * with `on`, over the same queries, rounds and checks. Undefined, that row would be n/a.
 */
export const ROUTER_DEDUP: { on: Record<string, string>; off: Record<string, string> } | undefined = {
  on: { SUBGRAPH_DEDUP: 'true' },
  off: { SUBGRAPH_DEDUP: 'false' },
};

export type GatewayKind = 'plain' | 'router';

export interface GatewayVariant {
  /** Row label: "plain", "router", "router + dedup". */
  name: string;
  kind: GatewayKind;
  dedup: boolean;
  /** Environment that selects this variant's dedup setting (on top of the gateway's own). */
  env: Record<string, string>;
  /** Why the variant is not run ("n/a" rows), undefined when it runs. */
  unavailable?: string;
  /** Router processes (ROUTER_WORKERS), each on a core of its own; 1 when absent. */
  workers?: number;
}

/** BENCH_ROUTER_WORKERS: the worker counts the router runs with, "1,2" by default. */
export function routerWorkerCounts(value = '1,2'): number[] {
  const counts = value.split(',').map((v) => Number(v.trim()));
  if (!counts.length || counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_ROUTER_WORKERS=${value}: must be worker counts separated by commas, e.g. "1,2"`);
  return [...new Set(counts)].sort((a, b) => a - b);
}

export const PLAIN = 'plain';

export function gatewayVariants(workerCounts: number[] = [1]): GatewayVariant[] {
  const clustered = workerCounts.filter((n) => n > 1);
  return [
    { name: PLAIN, kind: 'plain', dedup: false, env: {} },
    { name: 'router', kind: 'router', dedup: false, env: { ...ROUTER_DEDUP?.off, ROUTER_WORKERS: '1' } },
    ...clustered.map((n): GatewayVariant => ({ name: `router x${n} workers`, kind: 'router', dedup: false, env: { ...ROUTER_DEDUP?.off, ROUTER_WORKERS: String(n) }, workers: n })),
    { name: 'plain + dedup', kind: 'plain', dedup: true, env: {}, unavailable: '@apollo/gateway has no deduplication of in-flight subgraph fetches' },
    // One process, as the "router" row it is compared with, whatever ROUTER_WORKERS the shell has.
    ROUTER_DEDUP
      ? { name: 'router + dedup', kind: 'router', dedup: true, env: { ...ROUTER_DEDUP.on, ROUTER_WORKERS: '1' } }
      : { name: 'router + dedup', kind: 'router', dedup: true, env: {}, unavailable: 'the router has no deduplication yet (bench/lib/gateways/variants.ts, ROUTER_DEDUP)' },
  ];
}
