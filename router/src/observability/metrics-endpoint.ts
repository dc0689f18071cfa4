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

export function metricsEndpoint(app: Express, registry: MetricsRegistry, port: number | undefined): MetricsEndpoint {
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
