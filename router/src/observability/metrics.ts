/**
 * The router's Prometheus series (docs/observability.md, "Metrics: router"), on one registry
 * `createMetricsRegistry('router')` (packages/kit/src/core/metrics.ts): every series carries
 * `service="router"` and Node.js's own process metrics come with it.
 *
 * Labels stay bounded. Subgraph names come from the supergraph (a handful), outcomes and limits
 * are fixed sets, and the two that come from outside are capped (bounded-label.ts): operation
 * names (the first `maxOperationNames` validated names, then `other`) and error codes (subgraphs
 * may send codes of their own). A user id, an address or a query's text is never a label: the
 * access log (access-log.ts) is where one request is looked up.
 */
import { counter, createMetricsRegistry, gauge, histogram, sampledCounter, sampledGauge, type MetricsRegistry } from '@campus/kit/core';
import type { GraphQLFormattedError } from 'graphql';
import type { RateLimitRefusal } from '../edge/rate-limits.ts';
import type { ResponseCacheLookup } from '../response-cache/response-cache.ts';
import type { SupergraphTracker } from '../planning/supergraph-state.ts';
import type { SubscriptionStats } from '../subscriptions/ws-server.ts';
import type { SubgraphFetchObserver } from '../subgraph-resilience.ts';
import { boundedLabel, OTHER } from './bounded-label.ts';
import { rateLimitLabel, refusedBy } from './refusals.ts';

export type Outcome = 'ok' | 'client_error' | 'server_error';
export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

/** One answered request, as the access log and the request series see it. */
export interface RequestRecord {
  transport: 'http' | 'ws';
  /** The operation's name as sent; undefined for an anonymous operation. */
  operationName: string | undefined;
  operationType: OperationType;
  /** Whether the operation parsed and validated: only then may its name take a label slot. */
  validated: boolean;
  outcome: Outcome;
  /** extensions.code of the error that decided the outcome; undefined when ok. */
  code: string | undefined;
  seconds: number;
}

/**
 * Request latency: most answers take milliseconds, the subgraph timeout is 10 s and the request
 * deadline 15 s (config.ts), so the buckets reach past both.
 */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
/** One subgraph fetch: the same range, a little finer at the low end (a fetch is part of a request). */
const FETCH_BUCKETS = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
/** Error codes are a fixed vocabulary of ours plus whatever a subgraph invents: bounded anyway. */
const MAX_CODES = 50;
const ANONYMOUS = 'anonymous';
/** A request that never resolved to an operation (refused at the edge, unparseable): no name to trust. */
const UNRESOLVED = 'unknown';

export interface RouterMetrics {
  registry: MetricsRegistry;
  /** Counts one answered request (HTTP, or a graphql-ws operation). */
  request(record: RequestRecord): void;
  /** Counts an error sent to a client when it is a refusal by one of the edge's limits. */
  refusal(error: Pick<GraphQLFormattedError, 'extensions'>): void;
  /** A WebSocket upgrade refused before any GraphQL (edge/ws-rate-limits.ts). */
  upgradeRefused(refusal: RateLimitRefusal): void;
  subgraphFetches: SubgraphFetchObserver;
  eventDelivered(): void;
  /** One query the response cache was asked about (response-cache/response-cache.ts). */
  responseCacheLookup(result: ResponseCacheLookup): void;
  /** One POST answered by the fast path rather than Apollo Server (fast-path/fast-path.ts). */
  fastPathAnswered(): void;
  /** Series read when scraped from what the router already keeps (plan cache, open sockets). */
  watch(sources: { tracker: SupergraphTracker; subscriptionStats: () => SubscriptionStats }): void;
}

export function createRouterMetrics(options: { maxOperationNames: number }): RouterMetrics {
  const registry = createMetricsRegistry('router');
  const operationNames = boundedLabel(options.maxOperationNames);
  const codes = boundedLabel(MAX_CODES);

  const operationLabel = (r: RequestRecord): string => {
    if (r.validated) return operationNames.of(r.operationName ?? ANONYMOUS, true);
    // Refused before it validated: a name already labelled is kept (a rate-limited CourseCatalog
    // is still CourseCatalog); any other name is the client's word only and takes no slot.
    const known = r.operationName === undefined ? OTHER : operationNames.of(r.operationName, false);
    return known === OTHER ? UNRESOLVED : known;
  };

  const requests = counter(registry, 'campus_router_requests_total', 'GraphQL requests answered, by operation, type and outcome (client_error/server_error with the deciding extensions.code).', [
    'transport',
    'operation_name',
    'operation_type',
    'outcome',
    'code',
  ]);
  const requestSeconds = histogram(
    registry,
    'campus_router_request_duration_seconds',
    'Time from receiving a GraphQL request to answering it, by operation type and outcome.',
    ['transport', 'operation_type', 'outcome'],
    REQUEST_BUCKETS,
  );
  const refused = counter(registry, 'campus_router_operations_refused_total', 'Operations refused by one of the edge limits (depth, aliases, tokens, cost, rate limits, trusted documents, planning time, sizes).', [
    'limit',
    'code',
  ]);
  const fetches = counter(registry, 'campus_router_subgraph_fetches_total', 'Subgraph fetches by subgraph and outcome (ok, error, timeout, breaker_open, connection_failed, upstream_unavailable, deadline).', [
    'subgraph',
    'outcome',
  ]);
  const fetchSeconds = histogram(registry, 'campus_router_subgraph_fetch_duration_seconds', 'Time of one subgraph fetch (its retry included), by subgraph and outcome.', ['subgraph', 'outcome'], FETCH_BUCKETS);
  const deduplicated = counter(registry, 'campus_router_subgraph_fetches_deduplicated_total', 'Query fetches not sent: each waited for an identical one in flight (SUBGRAPH_DEDUP).', ['subgraph']);
  const retries = counter(registry, 'campus_router_subgraph_fetch_retries_total', 'Query fetches sent again after a connection error.', ['subgraph']);
  const breakerOpen = gauge(registry, 'campus_router_subgraph_breaker_open', 'Whether the subgraph circuit breaker is open (1, half-open included) or closed (0).', ['subgraph']);
  const breakerOpened = counter(registry, 'campus_router_subgraph_breaker_opened_total', 'Times the subgraph circuit breaker opened.', ['subgraph']);
  const events = counter(registry, 'campus_router_subscription_events_delivered_total', 'Subscription results sent to clients over graphql-ws.');
  const cacheLookups = counter(registry, 'campus_router_response_cache_lookups_total', 'Queries by response cache result: hit (served from cache), miss (computed; stored when PUBLIC with a max-age), bypass (signed in), unavailable (catalog generation unreadable).', ['result']);
  const fastPathAnswers = counter(registry, 'campus_router_fast_path_answers_total', 'GraphQL POSTs answered by the fast path (common operations seen before) rather than by Apollo Server; the rest of campus_router_requests_total{transport="http"} went through Apollo Server.');

  return {
    registry,
    request(r) {
      const labels = { transport: r.transport, operation_type: r.operationType, outcome: r.outcome };
      requests.inc({ ...labels, operation_name: operationLabel(r), code: r.code === undefined ? '' : codes.of(r.code) });
      requestSeconds.observe(labels, r.seconds);
    },
    refusal(error) {
      const limit = refusedBy(error);
      if (limit) refused.inc({ limit, code: String(error.extensions?.code) });
    },
    upgradeRefused(refusal) {
      refused.inc({ limit: rateLimitLabel(refusal.rateLimit), code: 'RATE_LIMITED' });
    },
    subgraphFetches: {
      fetched(subgraph, outcome, seconds) {
        fetches.inc({ subgraph, outcome });
        fetchSeconds.observe({ subgraph, outcome }, seconds);
      },
      retried: (subgraph) => retries.inc({ subgraph }),
      deduplicated: (subgraph) => deduplicated.inc({ subgraph }),
      breakerChanged(subgraph, open) {
        breakerOpen.set({ subgraph }, open ? 1 : 0);
        if (open) breakerOpened.inc({ subgraph });
      },
    },
    eventDelivered: () => events.inc(),
    responseCacheLookup: (result) => cacheLookups.inc({ result }),
    fastPathAnswered: () => fastPathAnswers.inc(),
    watch({ tracker, subscriptionStats }) {
      sampledCounter(registry, 'campus_router_query_plan_cache_hits_total', 'Operations whose query plan came from the cache.', () => tracker.planCacheStats().hits);
      sampledCounter(registry, 'campus_router_query_plan_cache_misses_total', 'Operations planned on a planner thread (not in the cache).', () => tracker.planCacheStats().misses);
      sampledGauge(registry, 'campus_router_query_plan_cache_entries', 'Query plans cached for the current supergraph.', () => tracker.planCacheStats().entries);
      sampledGauge(registry, 'campus_router_websocket_connections', 'Client graphql-ws connections open (past connection_init).', () => subscriptionStats().connections);
      sampledGauge(registry, 'campus_router_subscriptions_active', 'Federated subscriptions running.', () => subscriptionStats().subscriptions);
      sampledGauge(registry, 'campus_router_subscription_upstream_sockets', 'WebSockets open from the router to subgraphs.', () => subscriptionStats().upstreamSockets);
      sampledGauge(registry, 'campus_router_subscription_upstream_subscriptions', 'Subscriptions open on subgraphs, each shared by the identical client subscriptions of one viewer scope.', () => subscriptionStats().upstreamSubscriptions);
      sampledCounter(registry, 'campus_router_subscription_backlog_overflows_total', 'Client subscriptions ended with SUBSCRIPTION_BACKLOG_FULL: events came faster than the rest of the plan completed.', () => subscriptionStats().backlogOverflows);
    },
  };
}
