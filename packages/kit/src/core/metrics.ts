/**
 * Prometheus metrics (prom-client), one registry per service (docs/delivery.md lists what the
 * delivery machinery reports). Every series carries a `service` label, so a process that runs
 * several services (the embedded default) still tells them apart, and Node.js's own process metrics
 * (event-loop lag, heap, GC) come with each registry.
 *
 * Names follow Prometheus conventions: `campus_` prefix, units in names, `_total` for counters, and
 * labels with a bounded set of values (an event type, an outcome), never an id.
 */
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export type MetricsRegistry = Registry;

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
