/**
 * A subgraph's own series (docs/observability.md, "Metrics: subgraphs"), wired the same way in
 * every service: its service.ts calls `instrumentSubgraph` once its server is started, with what
 * only the service has (its statement tap, its database client, its live-update counts, its
 * outbox and consumer group). What every subgraph counts regardless, GraphQL requests and errors,
 * the subgraph server counts itself (graphql-metrics.ts).
 *
 * With <SERVICE>_METRICS_PORT the registry is served on that port, and no longer on the service's
 * own: a scraper-only listener keeps subgraph names, error codes and backlogs away from whoever
 * can reach the service.
 */
import { errorReason } from '../core/error-reason.ts';
import { serveMetrics, type MetricsServer } from '../core/metrics.ts';
import { StartupError } from '../core/startup-error.ts';
import { countLiveUpdates, watchConsumerLag, watchOutbox } from '../events/delivery-metrics.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { RawSql } from '../events/outbox-relay.ts';
import type { LiveUpdateCounts } from '../events/pubsub.ts';
import { watchStatements } from './database-metrics.ts';
import { countLoaderBatches } from './loaders.ts';
import type { ServiceConfig } from './service-config.ts';
import type { StatementTap } from './statement-tap.ts';
import type { SubgraphServer } from './subgraph-server.ts';

export interface SubgraphMetricsSources {
  /** Every statement the service sends its database, with its duration: campus_db_*. */
  statements: StatementTap;
  /** The client its createLoaders builds loaders from (its Prisma client): campus_dataloader_*. */
  loaders: object;
  /** What its live updates publish through (bestEffortPublisher's counts): campus_live_updates_*. */
  liveUpdates: LiveUpdateCounts;
  /** A service with an outbox: the raw-SQL surface its relay reads it with: campus_outbox_unpublished_*. */
  outbox?: Pick<RawSql, '$queryRawUnsafe'> | undefined;
  /** A service that consumes events: the bus and its consumer group: campus_event_consumer_lag. */
  consumer?: { bus: EventBus; group: string } | undefined;
}

export interface SubgraphMetrics {
  /** The port the registry is served on when it has one of its own (<SERVICE>_METRICS_PORT). */
  port: number | undefined;
  /** Stops the metrics listener, if any; the service calls it on close. */
  close(): Promise<void>;
}

export async function instrumentSubgraph(
  server: SubgraphServer,
  config: Pick<ServiceConfig, 'metricsPort'>,
  sources: SubgraphMetricsSources,
): Promise<SubgraphMetrics> {
  const registry = server.metrics;
  watchStatements(registry, sources.statements);
  countLoaderBatches(sources.loaders, registry);
  countLiveUpdates(registry, sources.liveUpdates);
  if (sources.outbox) watchOutbox(registry, sources.outbox);
  if (sources.consumer) watchConsumerLag(registry, sources.consumer.bus, sources.consumer.group);

  if (config.metricsPort === undefined) return { port: undefined, close: async () => {} };
  let listener: MetricsServer;
  try {
    listener = await serveMetrics(registry, config.metricsPort);
  } catch (e) {
    throw new StartupError(`the ${server.name} metrics port ${config.metricsPort} cannot be listened on: ${errorReason(e)}`);
  }
  server.withdrawMetrics();
  return { port: listener.port, close: () => listener.close() };
}
