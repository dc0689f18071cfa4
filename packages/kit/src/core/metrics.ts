/**
 * Prometheus metrics (prom-client), one registry per service (docs/delivery.md lists what the
 * delivery machinery reports). Every series carries a `service` label, so a process that runs
 * several services (the embedded default) still tells them apart, and Node.js's own process metrics
 * (event-loop lag, heap, GC) come with each registry.
 *
 * Names follow Prometheus conventions: `campus_` prefix, units in names, `_total` for counters, and
 * labels with a bounded set of values (an event type, an outcome), never an id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type MetricsRegistry = Registry;

/** One process's series as `registry.getMetricsAsJSON()` gives them: what crosses to another process to be summed. */
export type MetricsJson = Awaited<ReturnType<MetricsRegistry['getMetricsAsJSON']>>;

/**
 * Several processes' series as one registry (the router's worker processes, router/src/cluster/):
 * samples of one name and labels are combined by the series' own aggregator (prom-client's
 * AggregatorRegistry.aggregate: a sum unless the series says otherwise, e.g. an average for
 * event-loop lag).
 */
export function aggregateMetrics(perProcess: MetricsJson[]): MetricsRegistry {
  return AggregatorRegistry.aggregate(perProcess);
}

export function createMetricsRegistry(service: string): MetricsRegistry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** A counter registered once per registry: asking twice for one name returns the same counter. */
export function counter<L extends string>(registry: MetricsRegistry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  const known = registry.getSingleMetric(name);
  if (known) return known as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** A gauge the service sets itself (0/1 states, levels it tracks), registered once per registry. */
export function gauge<L extends string>(registry: MetricsRegistry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  const known = registry.getSingleMetric(name);
  if (known) return known as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/**
 * A histogram registered once per registry. `buckets` are upper bounds in the unit of the name
 * (seconds for `_seconds`); choose them around the thresholds alerts use, since a quantile can only
 * be estimated between bucket bounds.
 */
export function histogram<L extends string>(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: readonly number[],
): Histogram<L> {
  const known = registry.getSingleMetric(name);
  if (known) return known as Histogram<L>;
  return new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [registry] });
}

/**
 * A gauge read when scraped (`read` returns the value now), registered once per registry. When
 * `read` fails (its store is down) the gauge keeps its last value: one unreachable dependency must
 * not take every other series off /metrics with it.
 */
export function sampledGauge(registry: MetricsRegistry, name: string, help: string, read: () => Promise<number> | number): Gauge {
  const known = registry.getSingleMetric(name);
  if (known) return known as Gauge;
  return new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      try {
        this.set(await read());
      } catch {
        // Keeps the last value; /ready is where an outage shows.
      }
    },
  });
}

/**
 * A counter whose values a service already keeps (plain numbers it increments), read when scraped:
 * `read` returns the total, or totals by the value of the one label `labelName`.
 */
export function sampledCounter(
  registry: MetricsRegistry,
  name: string,
  help: string,
  read: () => number | Record<string, number>,
  labelName?: string,
): Counter {
  const known = registry.getSingleMetric(name);
  if (known) return known as Counter;
  return new Counter({
    name,
    help,
    labelNames: labelName ? [labelName] : [],
    registers: [registry],
    collect() {
      const value = read();
      this.reset();
      if (typeof value === 'number') this.inc(value);
      else for (const [label, n] of Object.entries(value)) this.inc({ [labelName!]: label }, n);
    },
  });
}

/** GET /metrics: the registry in Prometheus's text format. */
export function metricsHandler(registry: MetricsRegistry): RequestHandler {
  return async (_req, res) => {
    try {
      res.set('content-type', registry.contentType).send(await registry.metrics());
    } catch (err) {
      res.status(500).type('text/plain').send(`could not collect metrics: ${(err as Error).message}`);
    }
  };
}

/** The registry served on a port of its own (serveMetrics). */
export interface MetricsServer {
  server: Server;
  /** The port it listens on: the one asked for, or the one the system chose for 0. */
  port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics on a port of its own (`<SERVICE>_METRICS_PORT`), so the scrape endpoint can stay
 * off the public listener: the series name subgraphs, error codes and operation names, which a
 * deployment may not want every client to read. Only GET /metrics is served (404 otherwise); no
 * Express, so nothing of the service's own middleware (CORS, body parsing, rate limits) applies.
 * `host` absent = every interface, as the service's own port.
 */
export async function serveMetrics(registry: MetricsRegistry, port: number, host?: string): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: this port serves GET /metrics only.');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${(err as Error).message}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // A scraper's keep-alive connection must not hold the process open while it stops.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
