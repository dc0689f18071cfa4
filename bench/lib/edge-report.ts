/**
 * The edge benchmark's tables: the normal traffic of each phase side by side, each attack phase
 * against the baseline run just before it (a ratio taken under the same machine conditions), then
 * what became of the hostile requests.
 */
import type { KindReport } from './attackers.ts';
import type { NormalKind, NormalSample } from './normal-traffic.ts';
import { percentile, table } from './stats.ts';

export interface NormalSummary {
  sent: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers that were not "ok", timeouts included. */
  errors: number;
  timeouts: number;
  /** Outcome labels of the errors, with counts. */
  errorLabels: Record<string, number>;
}

export interface PhaseResult {
  kind: 'baseline' | 'attack';
  pair: number;
  normal: Record<NormalKind, NormalSummary>;
  routerPeakRss: number;
  stackPeakRss: number;
  /** Attack phases: hostile requests by kind and outcome. */
  attack?: KindReport[];
  /** Attack phases: time from the end of the attack until the router answered promptly again. */
  recoveryMs?: number;
  recovered?: boolean;
}

export function summarize(samples: NormalSample[], kind: NormalKind): NormalSummary {
  const own = samples.filter((s) => s.kind === kind);
  // Timed-out requests count at their deadline: a lower bound, but leaving them out would make a
  // stalled router look fast.
  const ms = own.map((s) => s.ms).sort((a, b) => a - b);
  const errorLabels: Record<string, number> = {};
  for (const s of own) if (s.label !== 'ok') errorLabels[s.label] = (errorLabels[s.label] ?? 0) + 1;
  return {
    sent: own.length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms.length ? ms[ms.length - 1]! : Number.NaN,
    errors: own.filter((s) => s.label !== 'ok').length,
    timeouts: errorLabels.timeout ?? 0,
    errorLabels,
  };
}

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(1)} ms`);
const mib = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(v / 2 ** 20).toFixed(0)} MiB`);
const count = (v: number) => String(v);
const ratio = (attack: number, baseline: number) =>
  Number.isNaN(attack) || Number.isNaN(baseline) || baseline <= 0 ? 'n/a' : `${(attack / baseline).toFixed(2)}x`;

type Row = [label: string, format: (v: number) => string, value: (p: PhaseResult) => number, ratio: boolean];

const normalRows = (kind: NormalKind, what: string): Row[] => [
  [`${what} p50`, ms, (p) => p.normal[kind].p50, true],
  [`${what} p99`, ms, (p) => p.normal[kind].p99, true],
  [`${what} max`, ms, (p) => p.normal[kind].max, true],
  [`${what} requests`, count, (p) => p.normal[kind].sent, false],
  [`${what} errors`, count, (p) => p.normal[kind].errors, false],
  [`${what} of which timeouts`, count, (p) => p.normal[kind].timeouts, false],
];

const ROWS: Row[] = [
  ...normalRows('catalog', 'catalog'),
  ...normalRows('health', 'health'),
  ['router peak RSS', mib, (p) => p.routerPeakRss, true],
  ['stack peak RSS', mib, (p) => p.stackPeakRss, true],
];

/** Phases in run order: baseline 1, attack 1, baseline 2, attack 2… */
export function normalTable(phases: PhaseResult[]): string {
  const pairs = [...new Set(phases.map((p) => p.pair))].map((n) => ({
    baseline: phases.find((p) => p.pair === n && p.kind === 'baseline'),
    attack: phases.find((p) => p.pair === n && p.kind === 'attack'),
  }));
  const header = ['normal traffic', ...pairs.flatMap((_, i) => [`baseline ${i + 1}`, `attack ${i + 1}`, 'ratio'])];
  const rows = ROWS.map(([label, format, value, withRatio]) => [
    label,
    ...pairs.flatMap(({ baseline, attack }) => [
      baseline ? format(value(baseline)) : '',
      attack ? format(value(attack)) : '',
      withRatio && baseline && attack ? ratio(value(attack), value(baseline)) : '',
    ]),
  ]);
  rows.push([
    'recovery after the attack',
    ...pairs.flatMap(({ attack }) => [
      '',
      attack?.recoveryMs === undefined ? '' : `${attack.recovered ? '' : '> '}${(attack.recoveryMs / 1000).toFixed(1)} s`,
      '',
    ]),
  ]);
  return table(header, rows);
}

/** What the normal traffic's errors were, phase by phase (empty when there were none). */
export function normalErrors(phases: PhaseResult[]): string[] {
  return phases.flatMap((p) =>
    (['catalog', 'health'] as const)
      .filter((k) => p.normal[k].errors > 0)
      .map((k) => `  ${p.kind} ${p.pair}, ${k}: ${Object.entries(p.normal[k].errorLabels).map(([l, n]) => `${l} ×${n}`).join(', ')}`),
  );
}

/** Hostile requests by kind and outcome, one column group per attack phase. */
export function attackTable(phases: PhaseResult[]): string {
  const attacks = phases.filter((p) => p.kind === 'attack' && p.attack);
  const kinds = [...new Set(attacks.flatMap((p) => p.attack!.map((k) => k.kind)))];
  const header = ['hostile kind', 'outcome', ...attacks.flatMap((p) => [`attack ${p.pair}: n`, 'p50', 'max', 'largest answer'])];
  const rows: string[][] = [];
  for (const kind of kinds) {
    const reports = attacks.map((p) => p.attack!.find((k) => k.kind === kind));
    rows.push([kind, 'sent', ...reports.flatMap((r) => [String(r?.sent ?? 0), '', '', ''])]);
    const labels = [...new Set(reports.flatMap((r) => r?.outcomes.map((o) => o.label) ?? []))].sort();
    for (const label of labels) {
      rows.push([
        '',
        label,
        ...reports.flatMap((r) => {
          const o = r?.outcomes.find((x) => x.label === label);
          return o ? [String(o.count), ms(o.p50), ms(o.max), bytes(o.maxBytes)] : ['0', '', '', ''];
        }),
      ]);
    }
    rows.push(['', 'cut at phase end', ...reports.flatMap((r) => [String(r?.cut ?? 0), '', '', ''])]);
  }
  return table(header, rows);
}

const bytes = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(1)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);

export const LEGEND = [
  'ratio = attack / the baseline just before it, both measured in this run.',
  'Latencies are the normal traffic\'s, client side, from request sent to last byte; a timed-out',
  '  request counts at its deadline (BENCH_TIMEOUT_MS), so p99/max are lower bounds when there are timeouts.',
  'errors = answers other than "ok" (timeouts, GraphQL errors by extensions.code, HTTP errors).',
  'peak RSS = highest resident memory sampled during the phase (every 200 ms, from /proc).',
  'recovery = from the end of an attack until /health and the catalog both answered in under',
  '  500 ms three times in a row; "> N s" = not recovered when the next baseline started.',
  'Hostile outcomes: "ok" = answered in full; CODE = refused or failed with that extensions.code',
  '  ("+data" = partial answer); "timeout" = no answer within BENCH_ATTACK_TIMEOUT_MS;',
  '  "cut at phase end" = still in flight when the attack phase ended (no outcome).',
].join('\n');
