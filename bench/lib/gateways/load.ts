/**
 * The load generator of `npm run bench:gateways` (autocannon is not among the repository's
 * dependencies): a closed loop of `connections` keep-alive HTTP/1.1 connections (node:http), each
 * sending the next request as soon as the answer to its last one has arrived, so what is measured
 * is the most the gateway sustains at that concurrency.
 *
 * Kept lean because it shares its cores with the subgraphs: the request body is serialized once,
 * answers are not parsed (an answer is good when it is HTTP 200 and holds no `"errors"` key; only a
 * bad answer is parsed, to name it by its error code), and timing is one performance.now() at
 * each end. The first `warmupMs` are not recorded (JIT, query plans, connections); then requests
 * answered within the next `durationMs` are counted, and requests still in flight at its end are
 * awaited but not counted.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  url: string;
  /** The JSON body, serialized once. */
  body: unknown;
  headers?: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Deadline of one request; a request past it counts as "timeout" and its socket is destroyed. */
  timeoutMs: number;
  /** Called once the warm-up has ended, just before the measured window opens (counters, RSS, CPU). */
  onMeasureStart?: () => Promise<void> | void;
  /** Called as the measured window closes, before the requests still in flight are awaited. */
  onMeasureEnd?: () => Promise<void> | void;
}

export interface LoadResult {
  /** Length of the measured window (s). */
  seconds: number;
  ok: number;
  /** Bad answers in the window by label: "HTTP 503", a GraphQL error code, "timeout", "connection ECONNRESET". */
  errors: Map<string, number>;
  /** Latency of every answer in the window, good or bad (ms), sorted. */
  latencies: number[];
  /** Every request sent from the first to the last, warm-up and the drain included, each answered or timed out. */
  allRequests: number;
}

function labelOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { extensions?: { code?: unknown } }[] };
    const codes = [...new Set((body.errors ?? []).map((e) => String(e?.extensions?.code ?? 'no code')))].sort().join(',');
    return codes ? (status === 200 ? codes : `HTTP ${status} ${codes}`) : `HTTP ${status}`;
  } catch {
    return `HTTP ${status} (not JSON)`;
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const payload = Buffer.from(JSON.stringify(o.body));
  const headers = { 'content-type': 'application/json', 'content-length': String(payload.length), ...o.headers };
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const url = new URL(o.url);
  const result: LoadResult = { seconds: 0, ok: 0, errors: new Map(), latencies: [], allRequests: 0 };
  let measuring = false;
  let stopped = false;
  let windowStart = 0;
  let windowEnd = Number.POSITIVE_INFINITY;

  const once = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      let settled = false;
      const finish = (label: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        const end = performance.now();
        result.allRequests += 1;
        if (measuring && end >= windowStart && end <= windowEnd) {
          result.latencies.push(end - start);
          if (label === 'ok') result.ok += 1;
          else result.errors.set(label, (result.errors.get(label) ?? 0) + 1);
        }
        resolve();
      };
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers });
      const deadline = setTimeout(() => {
        finish('timeout');
        req.destroy();
      }, o.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => finish(`connection ${e.code ?? e.message}`));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e: NodeJS.ErrnoException) => finish(`connection ${e.code ?? e.message}`));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          finish(res.statusCode === 200 && !text.includes('"errors"') ? 'ok' : labelOf(res.statusCode ?? 0, text));
        });
      });
      req.end(payload);
    });

  const workers = Array.from({ length: o.connections }, async () => {
    while (!stopped) await once();
  });
  await new Promise((r) => setTimeout(r, o.warmupMs));
  await o.onMeasureStart?.();
  windowStart = performance.now();
  windowEnd = windowStart + o.durationMs;
  measuring = true;
  await new Promise((r) => setTimeout(r, o.durationMs));
  stopped = true;
  await o.onMeasureEnd?.();
  result.seconds = o.durationMs / 1000;
  await Promise.all(workers);
  agent.destroy();
  result.latencies.sort((a, b) => a - b);
  return result;
}
