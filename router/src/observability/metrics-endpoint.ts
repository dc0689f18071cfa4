/**
 * Where the router's /metrics is served: on its own port by default (GET /metrics beside
 * /health), or, with ROUTER_METRICS_PORT, on a port of its own (serveMetrics, the same helper
 * the subgraphs use for <SERVICE>_METRICS_PORT) and then not on the public port at all: the
 * series name subgraphs, codes and operations, which a deployment may keep to its own network.
 */
import { metricsHandler, serveMetrics, type MetricsRegistry, type MetricsServer } from '@campus/kit/core';
import type { Express } from 'express';

export interface MetricsEndpoint {
  /** Opens the separate port, when there is one. */
  start(): Promise<void>;
  /** The separate port once started (the system's choice for 0); undefined when served on the router's own. */
  port(): number | undefined;
  close(): Promise<void>;
}

/**
 * The whole router's series when it runs as several worker processes (router/src/cluster/):
 * collected from every worker by the primary.
 */
export interface ClusterMetricsSource {
  metrics(): Promise<{ contentType: string; text: string }>;
}

export function metricsEndpoint(app: Express, registry: MetricsRegistry, port: number | undefined, cluster?: ClusterMetricsSource): MetricsEndpoint {
  if (cluster) {
    // A worker's own series are a part of the router's: its /metrics answers the primary's sum,
    // whichever worker the scrape lands on. ROUTER_METRICS_PORT is the primary's to serve: opened
    // in a worker, the cluster would share it and answer from one worker at random.
    if (port === undefined) {
      app.get('/metrics', (_req, res) => {
        cluster.metrics().then(
          ({ contentType, text }) => res.set('content-type', contentType).send(text),
          (err: unknown) => res.status(500).type('text/plain').send(`could not collect metrics: ${(err as Error).message}`),
        );
      });
    }
    return { start: async () => {}, port: () => undefined, close: async () => {} };
  }
  if (port === undefined) {
    app.get('/metrics', metricsHandler(registry));
    return { start: async () => {}, port: () => undefined, close: async () => {} };
  }
  let server: MetricsServer | undefined;
  return {
    async start() {
      server ??= await serveMetrics(registry, port);
    },
    port: () => server?.port,
    async close() {
      await server?.close();
      server = undefined;
    },
  };
}
