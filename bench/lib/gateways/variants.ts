/**
 * The gateways `npm run bench:gateways` compares, and how each is started. Four rows:
 *
 *   plain            @apollo/gateway + @apollo/server 5 startStandaloneServer (plain-gateway.mjs),
 *                    the reference every ratio is taken against; no dedup (it has none)
 *   router           the Campus router's production build (router/dist/index.js), every production
 *                    feature on, dedup of identical in-flight subgraph fetches off
 *   plain + dedup    n/a: @apollo/gateway cannot deduplicate in-flight subgraph fetches
 *   router + dedup   n/a until the router can (ROUTER_DEDUP below)
 *
 * THE HOOK for a later change that adds in-flight deduplication to the router: set ROUTER_DEDUP to
 * the environment that turns it on and the one that turns it off (e.g. `{ on: { SUBGRAPH_DEDUP:
 * 'true' }, off: { SUBGRAPH_DEDUP: 'false' } }`, whatever router/src/config.ts names it). The
 * "router" row then runs with `off` (so it stays the dedup-off figure whatever the router's default
 * becomes) and a "router + dedup" row runs with `on`, over the same queries, rounds and checks.
 */
export const ROUTER_DEDUP: { on: Record<string, string>; off: Record<string, string> } | undefined = undefined;

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
}

export const PLAIN = 'plain';

export function gatewayVariants(): GatewayVariant[] {
  return [
    { name: PLAIN, kind: 'plain', dedup: false, env: {} },
    { name: 'router', kind: 'router', dedup: false, env: ROUTER_DEDUP?.off ?? {} },
    { name: 'plain + dedup', kind: 'plain', dedup: true, env: {}, unavailable: '@apollo/gateway has no deduplication of in-flight subgraph fetches' },
    ROUTER_DEDUP
      ? { name: 'router + dedup', kind: 'router', dedup: true, env: ROUTER_DEDUP.on }
      : { name: 'router + dedup', kind: 'router', dedup: true, env: {}, unavailable: 'the router has no deduplication yet (bench/lib/gateways/variants.ts, ROUTER_DEDUP)' },
  ];
}
