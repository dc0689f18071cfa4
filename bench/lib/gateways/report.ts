/**
 * The tables of `npm run bench:gateways`: per query, a column per gateway (medians over the
 * rounds) and each gateway's ratio to the plain gateway; then what each gateway took to start.
 */
import { median, table } from '../stats.ts';
import type { BenchQuery } from './queries.ts';
import { PLAIN, type GatewayVariant } from './variants.ts';

export interface RoundSample {
  round: number;
  gateway: string;
  query: string;
  rps: number;
  p50: number;
  p99: number;
  sent: number;
  errors: Map<string, number>;
  /** Highest RSS sampled during warm-up and window (bytes). */
  peakRss: number;
  /** CPU the gateway used in the window, in cores (1.0 = its whole core). */
  gatewayCpu: number;
  /** Gateway CPU time per good answer in the window (ms): what a request costs the gateway, whatever else limits the rate. */
  cpuMsPerAnswer: number;
  /** CPU the subgraph process used in the window, in cores. */
  subgraphCpu: number;
  /** Subgraph fetches per request over the whole load (warm-up and drain included: exact). */
  fetchesPerAnswer: number;
}

export interface QueryFacts {
  /** Subgraph fetches of one request sent alone, per gateway. */
  exactFetches: Map<string, number>;
  /** Bytes of the answer (the plain gateway's). */
  answerBytes: number;
}

const n = (v: number, digits = 0) => (Number.isNaN(v) ? 'n/a' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const mib = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(v / 2 ** 20).toFixed(0)} MiB`);
const ratio = (v: number, ref: number) => (Number.isNaN(v) || Number.isNaN(ref) || ref === 0 ? 'n/a' : `${(v / ref).toFixed(2)}x`);

export interface Summary {
  rps: number;
  rpsPerRound: number[];
  p50: number;
  p99: number;
  sent: number;
  errors: Map<string, number>;
  peakRss: number;
  gatewayCpu: number;
  cpuMsPerAnswer: number;
  subgraphCpu: number;
  fetchesPerAnswer: number;
}

export function summarize(samples: RoundSample[]): Summary {
  const errors = new Map<string, number>();
  for (const s of samples) for (const [label, count] of s.errors) errors.set(label, (errors.get(label) ?? 0) + count);
  return {
    rps: median(samples.map((s) => s.rps)),
    rpsPerRound: samples.map((s) => s.rps),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    sent: samples.reduce((a, s) => a + s.sent, 0),
    errors,
    peakRss: Math.max(...samples.map((s) => s.peakRss)),
    gatewayCpu: median(samples.map((s) => s.gatewayCpu)),
    cpuMsPerAnswer: median(samples.map((s) => s.cpuMsPerAnswer)),
    subgraphCpu: median(samples.map((s) => s.subgraphCpu)),
    fetchesPerAnswer: median(samples.map((s) => s.fetchesPerAnswer)),
  };
}

/**
 * One table per query: a row per gateway (a row not run, such as "plain + dedup", "n/a"), each figure
 * with its ratio to the plain gateway in parentheses.
 */
export function queryTable(query: BenchQuery, variants: GatewayVariant[], samples: RoundSample[], facts: QueryFacts | undefined): string {
  const mine = (g: string) => samples.filter((s) => s.query === query.name && s.gateway === g);
  const summaries = new Map(variants.filter((v) => !v.unavailable && mine(v.name).length).map((v) => [v.name, summarize(mine(v.name))]));
  const plain = summaries.get(PLAIN);
  const errorsOf = (s: Summary) => [...s.errors.values()].reduce((a, b) => a + b, 0);
  const withRatio = (v: GatewayVariant, text: string, value: number, ref: number | undefined) =>
    v.name === PLAIN || ref === undefined ? text : `${text} (${ratio(value, ref)})`;
  const header = ['gateway', 'requests/s', 'p50', 'p99', 'errors / answers', 'peak RSS', 'gateway CPU', 'CPU / answer', 'subgraphs CPU', 'fetches / request', 'fetches / answer under load', 'requests/s per round'];
  const rows = variants.map((v) => {
    const s = summaries.get(v.name);
    if (!s) return [v.name, 'n/a', ...header.slice(2).map(() => '')];
    return [
      v.name,
      withRatio(v, n(s.rps), s.rps, plain?.rps),
      withRatio(v, ms(s.p50), s.p50, plain?.p50),
      withRatio(v, ms(s.p99), s.p99, plain?.p99),
      `${n(errorsOf(s))} / ${n(s.sent)}`,
      withRatio(v, mib(s.peakRss), s.peakRss, plain?.peakRss),
      n(s.gatewayCpu, 2),
      withRatio(v, ms(s.cpuMsPerAnswer), s.cpuMsPerAnswer, plain?.cpuMsPerAnswer),
      n(s.subgraphCpu, 2),
      facts?.exactFetches.has(v.name) ? String(facts.exactFetches.get(v.name)) : 'n/a',
      n(s.fetchesPerAnswer, 2),
      s.rpsPerRound.map((x) => n(x)).join(' / '),
    ];
  });
  const errorLines = [...summaries].flatMap(([g, s]) => [...s.errors].map(([label, count]) => `  ${g}: ${label} x${count}`));
  return [
    `${query.name} (${query.workload}): ${query.title}${facts ? `; answer ${n(facts.answerBytes)} bytes` : ''}`,
    table(header, rows),
    ...(errorLines.length ? ['errors:', ...errorLines] : []),
  ].join('\n');
}

export function startTable(
  starts: { workload: string; gateway: string; ms: number[] }[],
  idle: { workload: string; gateway: string; cores: number }[],
  variants: GatewayVariant[],
): string {
  const workloads = [...new Set(starts.map((s) => s.workload))];
  const samplesOf = (w: string, g: string) => starts.find((s) => s.workload === w && s.gateway === g)?.ms ?? [];
  const of = (w: string, g: string) => median(samplesOf(w, g));
  const all = (w: string, g: string) => ` [${samplesOf(w, g).map((x) => (x / 1000).toFixed(2)).join(', ')} s]`;
  const idleOf = (w: string, g: string) => idle.find((s) => s.workload === w && s.gateway === g)?.cores ?? Number.NaN;
  const rows = variants.map((v) => [
    v.name,
    ...workloads.flatMap((w) =>
      v.unavailable
        ? ['n/a', 'n/a']
        : [
            (v.name === PLAIN ? ms(of(w, v.name)) : `${ms(of(w, v.name))} (${ratio(of(w, v.name), of(w, PLAIN))})`) + all(w, v.name),
            n(idleOf(w, v.name), 3),
          ],
    ),
  ]);
  return [
    'start to first answer: from spawn to the first good answer to the probe query (small in (a), catalog in (b)), median [each start];',
    'idle CPU: cores the gateway used while nobody asked it anything, after its start',
    table(['gateway', ...workloads.flatMap((w) => [`start to first answer (${w})`, `idle CPU (${w})`])], rows),
  ].join('\n');
}
