/**
 * The side-by-side table of one scenario: each pair of runs (direct to the subgraph, then through
 * the router, back to back) with the router/direct ratio, so figures are read as ratios taken
 * under the same machine conditions rather than as absolutes.
 */
import type { ScenarioResult } from './scenario.ts';
import { table } from './stats.ts';

export interface Pair {
  direct: ScenarioResult;
  router: ScenarioResult;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const kib = (v: number) => `${(v / 1024).toFixed(1)} KiB`;
const ratio = (router: number, direct: number) => (direct > 0 ? `${(router / direct).toFixed(2)}x` : 'n/a');

/** Label, how to format it, and the figure on each path. */
const METRICS: [string, (v: number) => string, (r: ScenarioResult) => number][] = [
  ['latency p50', ms, (r) => r.latency.p50],
  ['latency p90', ms, (r) => r.latency.p90],
  ['latency p99', ms, (r) => r.latency.p99],
  ['latency max', ms, (r) => r.latency.max],
  ['event to last client p50', ms, (r) => r.lastClientP50],
  // Direct: the subgraph is all there is. Router: what the router adds on top of the subgraph.
  ['heap/sub: subgraph vs router', kib, (r) => (r.path === 'router' ? r.heapPerSub.router : r.heapPerSub.subgraph)],
  // The subgraph's own cost either way (router upstream socket vs client socket): expect ~1x.
  ['heap/sub: subgraph, both paths', kib, (r) => r.heapPerSub.subgraph],
];

export function pairTable(pairs: Pair[]): string {
  const header = ['', ...pairs.flatMap((_, i) => [`direct ${i + 1}`, `router ${i + 1}`, 'ratio'])];
  const rows = METRICS.map(([label, format, value]) => [
    label,
    ...pairs.flatMap(({ direct, router }) => [format(value(direct)), format(value(router)), ratio(value(router), value(direct))]),
  ]);
  rows.push(['subscriptions at the subgraph', ...pairs.flatMap(({ direct, router }) => [String(direct.upstreamSubscriptions), String(router.upstreamSubscriptions), ''])]);
  const complete = (r: ScenarioResult) => `${r.deliveries} ${r.complete ? 'ok' : 'INCOMPLETE'}`;
  rows.push(['deliveries', ...pairs.flatMap(({ direct, router }) => [complete(direct), complete(router), ''])]);
  return table(header, rows);
}

export const LEGEND = [
  'ratio = router / direct, within one pair (run back to back).',
  'heap/sub = heap retained per open subscription after a full GC.',
  '  subgraph vs router: direct column = the subgraph process, router column = the router process',
  '    (what the router adds; the subgraph still pays its own share).',
  '  subgraph, both paths: the subgraph process either way (client socket vs router upstream socket).',
].join('\n');
