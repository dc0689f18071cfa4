/** ApolloGateway over the supergraph file, with data sources that sign and forward. */
// First: the packages the gateway loads for work the router never has it do are deferred before it loads.
import './observability/deferred-gateway-modules.ts';
import { ApolloGateway, type ServiceEndpointDefinition } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import { createRequire } from 'node:module';
import type { Logger } from '@campus/kit/core';
import { createRequestSigner, type RequestSigner } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import type { RouterConfig } from './config.ts';
import { SignedDataSource, type Fetched } from './signed-data-source.ts';
import { createSubgraphDedup } from './subgraph-dedup.ts';
import { createSubgraphHttpClient, type SubgraphHttpClient } from './subgraph-fetcher.ts';
import { createSubgraphResilience, type SubgraphFetchObserver } from './subgraph-resilience.ts';
import { supergraphFromFile } from './supergraph-file.ts';
import type { FederationSupergraph, Schema } from './planning/federation-adapter.mjs';

/**
 * The data source for one subgraph. Build the factory once per router and hand it to both the
 * gateway and the subscription executor: it holds the subgraphs' circuit breakers, which must
 * see every fetch to a subgraph to know that it keeps failing, and the fetches in flight that
 * identical ones wait for (SUBGRAPH_DEDUP, subgraph-dedup.ts). `observer` counts fetches, and
 * with its optional `deduplicated` the fetches saved.
 */
export function dataSourceFactory(
  config: RouterConfig,
  logger: Logger,
  signer: RequestSigner = createRequestSigner(ROUTER_ISSUER, config.signingKeys),
  observer?: SubgraphFetchObserver,
) {
  const resilience = createSubgraphResilience(config.subgraphs, logger, observer);
  // One keep-alive pool per subgraph URL, kept across supergraph reloads like the breakers.
  const clients = new Map<string, SubgraphHttpClient>();
  const maxResponseBytes = subgraphResponseLimit(config.limits.maxResponseBytes);
  // Keyed by subgraph name and URL among the rest, so one map serves every data source, across reloads.
  const dedup = config.subgraphs.dedup ? createSubgraphDedup<Fetched>(observer) : undefined;
  return ({ name, url }: ServiceEndpointDefinition) => {
    if (!url) throw new Error(`The supergraph gives no URL for the ${name} subgraph.`);
    let client = clients.get(url);
    if (!client) {
      client = createSubgraphHttpClient(url, { maxResponseBytes });
      clients.set(url, client);
    }
    return new SignedDataSource({ name, url, signer, client, guard: resilience.forSubgraph(name, url), dedup });
  };
}

/**
 * The largest subgraph answer the router reads: far above the client's cap (LIMIT_MAX_RESPONSE_BYTES,
 * planning/executor.ts), which measures what the plan makes of the answers, so that the client's
 * cap is the one an ordinary large response meets; this one only stops a runaway subgraph.
 */
export function subgraphResponseLimit(maxResponseBytes: number): number {
  return Math.max(4 * maxResponseBytes, 16 * 1024 * 1024);
}

export function createGateway(config: RouterConfig, logger: Logger, buildService = dataSourceFactory(config, logger)): ApolloGateway {
  // @apollo/gateway otherwise sends usage metrics to Apollo's servers and probes cloud metadata
  // endpoints at start (docs/decisions.md, "Router"): a deployment decides itself whether anything
  // leaves it. An operator who wants it sets APOLLO_TELEMETRY_DISABLED=false.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  return new GatewayWithoutPlanner({
    supergraphSdl: supergraphFromFile(config.supergraphPath, logger),
    buildService,
    logger: {
      debug: (m: unknown) => logger.debug(String(m)),
      info: (m: unknown) => logger.info(String(m)),
      warn: (m: unknown) => logger.warn(String(m)),
      error: (m: unknown) => logger.error(String(m)),
    },
  });
}

/** The parts of ApolloGateway's private state that its `updateWithSchemaAndNotify` sets and reads. */
interface GatewayInternals {
  queryPlanStore: { clear(): void };
  apiSchema: Schema;
  schema: GraphQLSchema;
  onSchemaChangeListeners: Set<(schema: GraphQLSchema) => void>;
  onSchemaLoadOrUpdateListeners: Set<(update: { apiSchema: GraphQLSchema; coreSupergraphSdl: string; supergraph: FederationSupergraph }) => void>;
  logger: { error(message: string): void };
}

/**
 * ApolloGateway without a query planner of its own. The gateway builds one for every supergraph it
 * loads (its federated query graph: about a fifth of a second of the router's thread at start, and
 * memory for as long as that supergraph is served) for an executor the router never calls: plans
 * are made on the planner threads (planning/planner-pool.ts) and run by the router's executor
 * (planning/executor.ts). The one method that builds it is replaced by the same steps less that one,
 * as node_modules/@apollo/gateway/dist/index.js has them at the exact version router/package.json
 * pins (router/test/federation-versions.test.ts). It is a private method, hence no `override`.
 */
class GatewayWithoutPlanner extends ApolloGateway {}
Object.defineProperty(GatewayWithoutPlanner.prototype, 'updateWithSchemaAndNotify', {
  value: function updateWithSchemaAndNotify(this: GatewayInternals, supergraph: FederationSupergraph, supergraphSdl: string, legacyDontNotifyOnSchemaChangeListeners = false): void {
    this.queryPlanStore.clear();
    this.apiSchema = supergraph.apiSchema();
    this.schema = withGatewayVersion(this.apiSchema.toGraphQLJSSchema());
    const notify = <T>(kind: string, listeners: Set<(value: T) => void>, value: T) => {
      for (const listener of listeners) {
        try {
          listener(value);
        } catch (e) {
          this.logger.error(`An error was thrown from an '${kind}' listener. The schema will still update: ${(e as Error)?.message ?? e}`);
        }
      }
    };
    if (!legacyDontNotifyOnSchemaChangeListeners) notify('onSchemaChange', this.onSchemaChangeListeners, this.schema);
    // With the supergraph itself, which the router's state then reuses (planning/supergraph-state.ts)
    // rather than build it again from the SDL.
    notify('onSchemaLoadOrUpdate', this.onSchemaLoadOrUpdateListeners, { apiSchema: this.schema, coreSupergraphSdl: supergraphSdl, supergraph });
  },
});

const GATEWAY_VERSION = (createRequire(import.meta.url)('@apollo/gateway/package.json') as { version: string }).version;

/** The gateway's version under the schema's `extensions.apollo.gateway`, as the gateway's own addExtensions puts it. */
function withGatewayVersion(schema: GraphQLSchema): GraphQLSchema {
  const apollo = (schema.extensions.apollo ?? {}) as Record<string, unknown>;
  schema.extensions = { ...schema.extensions, apollo: { ...apollo, gateway: { ...(apollo.gateway as object | undefined), version: GATEWAY_VERSION } } };
  return schema;
}
