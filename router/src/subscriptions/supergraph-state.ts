/**
 * What the subscription executor needs from the supergraph the gateway serves right now: the API
 * schema clients are validated against, a query planner, the subgraphs' URLs and data sources.
 *
 * `@apollo/gateway` keeps its planner private and refuses to execute subscription plans, so we
 * build the same things it builds (Supergraph.build → QueryPlanner, apiSchema, supergraph schema)
 * from the supergraph SDL it announces through `onSchemaLoadOrUpdate` — the same file, the same
 * moment, the same planner code. A hot reload swaps the state; subscriptions already running keep
 * the state they were planned with (as an in-flight query would) until they end.
 */
import { buildOperationContext, type ApolloGateway, type GraphQLDataSource, type ServiceEndpointDefinition } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan, type SubscriptionNode } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { RouterContext } from '../context.ts';
import { coalescing } from './coalescing-data-source.ts';

type OperationContext = ReturnType<typeof buildOperationContext>;

export interface SubscriptionPlan {
  node: SubscriptionNode;
  /** The whole plan with the primary fetch first: what executeQueryPlan runs for every event. */
  perEvent: QueryPlan;
  operationContext: OperationContext;
}

export interface SupergraphState {
  /** Increments with every supergraph the gateway loads. */
  version: number;
  /** The client-facing schema, the very object the gateway validates queries against. */
  apiSchema: GraphQLSchema;
  api: Schema;
  supergraphSchema: GraphQLSchema;
  urls: ReadonlyMap<string, string>;
  dataSources: Readonly<Record<string, GraphQLDataSource<RouterContext>>>;
  plan(document: DocumentNode, operationName: string | undefined, cacheKey: string): SubscriptionPlan;
}

const PLAN_CACHE_SIZE = 500;

export type DataSourceFactory = (service: ServiceEndpointDefinition) => GraphQLDataSource<RouterContext>;

export interface SupergraphTracker {
  current(): SupergraphState | undefined;
  stop(): void;
}

export function trackSupergraph(gateway: ApolloGateway, buildService: DataSourceFactory): SupergraphTracker {
  let state: SupergraphState | undefined;
  let version = 0;
  const unsubscribe = gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    state = buildState(++version, apiSchema, coreSupergraphSdl, buildService, state);
  });
  return { current: () => state, stop: unsubscribe };
}

function buildState(
  version: number,
  apiSchema: GraphQLSchema,
  sdl: string,
  buildService: DataSourceFactory,
  previous: SupergraphState | undefined,
): SupergraphState {
  // The gateway validated this SDL a moment ago; validating it again would only cost time.
  const supergraph = Supergraph.build(sdl, { validateSupergraph: false });
  const api = supergraph.apiSchema();
  const planner = new QueryPlanner(supergraph);
  const urls = new Map(supergraph.subgraphsMetadata().map((s) => [s.name, s.url]));
  // Data sources are stateless apart from their URL: keep the previous ones where it did not change.
  const dataSources: Record<string, GraphQLDataSource<RouterContext>> = {};
  for (const [name, url] of urls) {
    dataSources[name] = previous?.urls.get(name) === url ? previous.dataSources[name]! : coalescing(buildService({ name, url }));
  }
  const cache = new Map<string, SubscriptionPlan>();

  return {
    version,
    apiSchema,
    api,
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    urls,
    dataSources,
    plan(document, operationName, cacheKey) {
      const cached = cache.get(cacheKey);
      if (cached) return cached;
      const operation = operationFromDocument(api, document, operationName ? { operationName } : {});
      const queryPlan = planner.buildQueryPlan(operation);
      if (queryPlan.node?.kind !== 'Subscription') throw new Error('The operation is not a subscription.');
      const node = queryPlan.node;
      const planned: SubscriptionPlan = {
        node,
        // executeQueryPlan refuses Subscription nodes but runs this equivalent: the primary fetch
        // (answered per event from the upstream stream) followed by the rest of the plan.
        perEvent: { kind: 'QueryPlan', node: node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary },
        operationContext: buildOperationContext({ schema: apiSchema, operationDocument: document, operationName }),
      };
      if (cache.size >= PLAN_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey, planned);
      return planned;
    },
  };
}
