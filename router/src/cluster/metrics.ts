/**
 * /metrics of a router running as several worker processes (docs/observability.md, "Workers"):
 * the whole router, whichever process answers the scrape.
 *
 * Each worker keeps its own registry (observability/metrics.ts). On a scrape the primary asks
 * every worker for its series (getMetricsAsJSON over IPC) and sums them with prom-client's
 * AggregatorRegistry (aggregateMetrics, packages/kit/src/core/metrics.ts): the router's series
 * keep the names and labels one process has, so dashboards and alerts read the same with 1 or N
 * workers. Only Node.js's own series (`nodejs_*`, `process_*`) get a `worker` label: a sum of heaps
 * is meaningful but an average of event-loop lags hides the one stuck worker, and a process's
 * start time or version cannot be summed at all.
 *
 * A worker that does not answer within COLLECT_TIMEOUT_MS (stuck, or dying) is left out of that
 * scrape rather than failing it. A worker's counters start again at zero when it is replaced; the
 * sum then drops, which Prometheus's rate() reads as a counter reset, as it reads a restart of a
 * single-process router.
 *
 *   primary   collectClusterMetrics() for its own port (ROUTER_METRICS_PORT) and for workers' asks
 *   worker    answerMetricsCollection() and metricsFromPrimary() (the router's port, server.ts)
 */
import type { Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { aggregateMetrics, type MetricsJson, type MetricsRegistry } from '@campus/kit/core';
import type { ClusterMetricsSource } from '../observability/metrics-endpoint.ts';
import { isMessage, type PrimaryMessage, type WorkerMessage } from './messages.ts';

const COLLECT_TIMEOUT_MS = 2_000;
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Series of one process, kept apart by a `worker` label instead of summed. */
const PER_PROCESS = /^(nodejs_|process_)/;
/**
 * How series whose sum would mislead are combined: a breaker open in one worker is open (1), not
 * "open twice". Every other router series is a count or a level the workers add up to.
 */
const AGGREGATORS: Record<string, 'max'> = { campus_router_subgraph_breaker_open: 'max' };

export interface LiveWorker {
  /** 1 to ROUTER_WORKERS (messages.ts). */
  number: number;
  worker: Worker;
}

/** The primary's own registry: workers up, restarts, and its process's series (labelled worker="primary"). */

export interface ClusterMetrics {
  /** Every worker's series and the primary's, as Prometheus text. */
  text(): Promise<string>;
  /** Serves GET /metrics on `port` (ROUTER_METRICS_PORT) from the primary. */
  serve(port: number): Promise<{ port: number; close(): Promise<void> }>;
}

export function collectClusterMetrics(workers: () => LiveWorker[], own: MetricsRegistry): ClusterMetrics {
  let nextId = 1;
  const collectOne = ({ number, worker }: LiveWorker): Promise<MetricsJson | undefined> =>
    new Promise((resolve) => {
      const id = nextId++;
      const done = (metrics: MetricsJson | undefined) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(metrics);
      };
      const onMessage = (message: unknown) => {
        if (isMessage<WorkerMessage>(message) && message.type === 'campus:metrics-json' && message.id === id) done(label(message.metrics, String(number)));
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(() => done(undefined), COLLECT_TIMEOUT_MS);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      try {
        worker.send({ type: 'campus:metrics-collect', id } satisfies PrimaryMessage);
      } catch {
        done(undefined);
      }
    });

  const text = async () => {
    const live = workers().filter((w) => w.worker.isConnected());
    const [primary, ...perWorker] = await Promise.all([own.getMetricsAsJSON(), ...live.map(collectOne)]);
    return aggregateMetrics([label(primary!, 'primary'), ...perWorker.filter((m) => m !== undefined)]).metrics();
  };

  return {
    text,
    async serve(port) {
      // As serveMetrics (packages/kit/src/core/metrics.ts) serves one registry: GET /metrics only.
      const server: Server = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: this port serves GET /metrics only.');
          return;
        }
        text().then(
          (body) => res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : body),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${(err as Error).message}`),
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return {
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  };
}

/** The primary's side of a scrape that reached a worker on the router's port. */
export function answerWorkerScrapes(worker: Worker, metrics: ClusterMetrics): void {
  worker.on('message', (message: unknown) => {
    if (!isMessage<WorkerMessage>(message) || message.type !== 'campus:metrics-request') return;
    const reply = (answer: PrimaryMessage) => {
      if (worker.isConnected()) worker.send(answer);
    };
    metrics.text().then(
      (text) => reply({ type: 'campus:metrics-text', id: message.id, contentType: CONTENT_TYPE, text }),
      (err: unknown) => reply({ type: 'campus:metrics-error', id: message.id, error: (err as Error).message }),
    );
  });
}

function label(metrics: MetricsJson, worker: string): MetricsJson {
  return metrics.map((metric) => {
    if (PER_PROCESS.test(metric.name)) {
      // One value per label set now: any aggregator but `omit` (process_start_time_seconds) keeps it.
      return { ...metric, aggregator: 'sum', values: metric.values.map((v) => ({ ...v, labels: { ...v.labels, worker } })) };
    }
    const aggregator = AGGREGATORS[metric.name];
    return aggregator ? { ...metric, aggregator } : metric;
  });
}

/** In a worker: gives the primary this worker's series when it collects them. */
export function answerMetricsCollection(registry: MetricsRegistry): void {
  process.on('message', (message: unknown) => {
    if (!isMessage<PrimaryMessage>(message) || message.type !== 'campus:metrics-collect') return;
    // A registry that fails to read (a sampled series' store down) still answers: empty, not never.
    void registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: 'campus:metrics-json', id: message.id, metrics } satisfies WorkerMessage),
      () => process.send?.({ type: 'campus:metrics-json', id: message.id, metrics: [] } satisfies WorkerMessage),
    );
  });
}

/** In a worker: /metrics on the router's port, answered with the primary's sum (server.ts, metrics-endpoint.ts). */
export function metricsFromPrimary(): ClusterMetricsSource {
  let nextId = 1;
  const pending = new Map<number, { resolve(r: { contentType: string; text: string }): void; reject(e: Error): void }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<PrimaryMessage>(message)) return;
    if (message.type !== 'campus:metrics-text' && message.type !== 'campus:metrics-error') return;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.type === 'campus:metrics-text') waiting.resolve({ contentType: message.contentType, text: message.text });
    else waiting.reject(new Error(message.error));
  });
  return {
    metrics: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        // Above the primary's own wait for the slowest worker.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the router primary did not answer'));
        }, COLLECT_TIMEOUT_MS * 2);
        pending.set(id, {
          resolve: (r) => (clearTimeout(timer), resolve(r)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        process.send?.({ type: 'campus:metrics-request', id } satisfies WorkerMessage);
      }),
  };
}
