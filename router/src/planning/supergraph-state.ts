/**
 * What the router needs from the supergraph it serves right now: the API schema clients are
 * validated against, plans (from the planner threads, planner-pool.ts), the subgraphs' URLs and
 * data sources, and the cost model demand control estimates with.
 *
 * `@apollo/gateway` keeps its planner private and plans on the router's own thread, so we build
 * the same things it builds (Supergraph.build, apiSchema, supergraph schema) from the supergraph
 * SDL it announces through `onSchemaLoadOrUpdate` — the same file, the same moment, the same
 * planner code — and execute its plans with our own executor or the gateway's `executeQueryPlan`
 * (executor.ts, plan-executor/). A hot reload swaps the state; operations already running keep the
 * state they were planned with.
 */
import type { ApolloGateway, GraphQLDataSource, ServiceEndpointDefinition } from '@apollo/gateway';
import { buildOperationContext, Supergraph, type FederationSupergraph, type OperationContext, type QueryPlan, type Schema, type SubscriptionNode } from './federation-adapter.mjs';
import { Kind, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { RouterContext } from '../context.ts';
import { costModel, type CostModel } from '../edge/cost.ts';
import { PlannerPool, type PlannerPoolOptions } from './planner-pool.ts';
import type { PlanExecutorKind } from './plan-executor/execute-plan.ts';

export interface SubscriptionPlan {
  node: SubscriptionNode;
  /** The whole plan with the primary fetch first: what executeQueryPlan runs for every event. */
  perEvent: QueryPlan;
  operationContext: OperationContext;
}

/** One operation to plan: its text (the cache key) and its parsed, validated document. */
export interface PlanRequest {
  query: string;
  document: DocumentNode;
  operationName: string | undefined;
}

export interface SupergraphState {
  /** Increments with every supergraph the gateway loads. */
  version: number;
  /** The client-facing schema, the very object the gateway validates queries against. */
  apiSchema: GraphQLSchema;
  api: Schema;
  supergraphSchema: GraphQLSchema;
  urls: ReadonlyMap<string, string>;
  /**
   * Data sources by subgraph name, for queries, mutations and subscription events alike; identical
   * query fetches in flight merge in them (SUBGRAPH_DEDUP, subgraph-dedup.ts), which is what keeps
   * an event fanned out to many clients from sending the same entity fetch once per client.
   */
  dataSources: Readonly<Record<string, GraphQLDataSource<RouterContext>>>;
  cost: CostModel;
  /** Which executor runs this supergraph's plans (ROUTER_PLAN_EXECUTOR, planning/plan-executor/). */
  planExecutor: PlanExecutorKind;
  plan(request: PlanRequest): Promise<{ plan: QueryPlan; operationContext: OperationContext }>;
  planSubscription(request: PlanRequest): Promise<SubscriptionPlan>;
}

export type DataSourceFactory = (service: ServiceEndpointDefinition) => GraphQLDataSource<RouterContext>;

export interface SupergraphTracker {
  current(): SupergraphState | undefined;
  /** Resolves once a planner thread has built its planner for the first supergraph. */
  plannerReady(): Promise<void>;
  /** False while the planner threads cannot start (planner-pool.ts). */
  plannerHealthy(): boolean;
  /** Plan cache hits and misses since start, and plans cached now (planner-pool.ts). */
  planCacheStats(): { hits: number; misses: number; entries: number };
  /**
   * Plans `operations` into the cache of the current supergraph (after the planner is ready), and
   * again, in the background, for every later supergraph: the operations a router knows in advance
   * (planning/warm-plans.ts) then never wait for a planner, on any process, after any reload.
   */
  warm(operations: readonly WarmOperation[]): Promise<WarmReport>;
  stop(): Promise<void>;
}

/** An operation known before any client sends it: its text as clients send it (the cache key) and its name. */
export interface WarmOperation {
  name: string;
  body: string;
}

export interface WarmReport {
  planned: number;
  /** Operations the planner refused or timed out on (the manifest may be older than the supergraph). */
  failed: { name: string; error: string }[];
  ms: number;
}

export interface TrackerOptions {
  buildService: DataSourceFactory;
  planner: Omit<PlannerPoolOptions, 'cacheSize'>;
  defaultListSize: number;
  /** ROUTER_PLAN_EXECUTOR (config.ts): one executor for every supergraph the router loads. */
  planExecutor: PlanExecutorKind;
}

const PLAN_CACHE_SIZE = 1_000;

export function trackSupergraph(gateway: ApolloGateway, options: TrackerOptions): SupergraphTracker {
  const planner = new PlannerPool({ ...options.planner, cacheSize: PLAN_CACHE_SIZE });
  const { planExecutor } = options;
  let state: SupergraphState | undefined;
  let version = 0;
  let known: readonly WarmOperation[] = [];
  const warmVersion = async (v: number): Promise<WarmReport> => {
    const started = performance.now();
    const failed: WarmReport['failed'] = [];
    const pending = [...known];
    // As many at a time as there are planner threads: each plan's budget counts from when it is
    // asked for (planner-pool.ts), so queueing them all at once could time the last ones out.
    const lane = async () => {
      for (let op = pending.shift(); op; op = pending.shift()) {
        await planner.prime(v, op.body, op.name, op.body).catch((e: unknown) => failed.push({ name: op.name, error: (e as Error).message }));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.planner.workers) }, lane));
    return { planned: known.length - failed.length, failed, ms: Math.round(performance.now() - started) };
  };
  const unsubscribe = gateway.onSchemaLoadOrUpdate((update) => {
    const { apiSchema, coreSupergraphSdl } = update;
    // The gateway's own supergraph when it hands it over (gateway.ts), otherwise built from the SDL.
    const supergraph = 'supergraph' in update ? (update.supergraph as FederationSupergraph) : undefined;
    state = buildState(++version, apiSchema, coreSupergraphSdl, supergraph, planner, { ...options, planExecutor }, state);
    // A reload empties the cache (planner-pool.ts): fill it again, without holding anything up.
    if (known.length && version > 1) {
      const v = version;
      void warmVersion(v).then((r) => options.planner.logger.info({ version: v, planned: r.planned, failed: r.failed.length, ms: r.ms }, 'query plans warmed for the new supergraph'));
    }
  });
  return {
    current: () => state,
    plannerReady: () => planner.ready,
    plannerHealthy: () => planner.healthy(),
    planCacheStats: () => planner.cacheStats(),
    async warm(operations) {
      known = operations;
      await planner.ready;
      return warmVersion(version);
    },
    stop: async () => {
      unsubscribe();
      await planner.close();
    },
  };
}

function buildState(
  version: number,
  apiSchema: GraphQLSchema,
  sdl: string,
  built: FederationSupergraph | undefined,
  planner: PlannerPool,
  options: TrackerOptions & { planExecutor: PlanExecutorKind },
  previous: SupergraphState | undefined,
): SupergraphState {
  // The gateway validated this SDL a moment ago; validating it again would only cost time. Its
  // supergraph has built its API schema already (toAPISchema keeps it), so `api` below is free.
  const supergraph = built ?? Supergraph.build(sdl, { validateSupergraph: false });
  planner.setSupergraph(version, sdl);
  const urls = new Map(supergraph.subgraphsMetadata().map((s) => [s.name, s.url]));
  // Data sources are stateless apart from their URL: keep the previous ones where it did not change.
  const dataSources: Record<string, GraphQLDataSource<RouterContext>> = {};
  for (const [name, url] of urls) {
    const kept = previous?.urls.get(name) === url;
    dataSources[name] = kept ? previous.dataSources[name]! : options.buildService({ name, url });
  }
  // A document of one operation is planned, and cached, under that operation's name whether or not
  // the client sent operationName: the same plan either way, and warmed plans (warm-plans.ts) are
  // keyed by name.
  const nameOf = (request: PlanRequest): string | undefined => {
    if (request.operationName !== undefined) return request.operationName;
    const operations = request.document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    return operations.length === 1 ? operations[0]!.name?.value : undefined;
  };
  // One operation context per plan: a plan is cached per operation text and name (planner-pool.ts),
  // and the context of the same text and name is the same whichever request's document it is
  // built from, so building it again for every request would only make garbage.
  const contexts = new WeakMap<QueryPlan, OperationContext>();
  const context = (request: PlanRequest, plan: QueryPlan) => {
    let built = contexts.get(plan);
    if (!built) {
      built = buildOperationContext({ schema: apiSchema, operationDocument: request.document, operationName: nameOf(request) });
      contexts.set(plan, built);
    }
    return built;
  };

  return {
    version,
    apiSchema,
    api: supergraph.apiSchema(),
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    urls,
    dataSources,
    cost: costModel(apiSchema, sdl, options.defaultListSize),
    planExecutor: options.planExecutor,
    async plan(request) {
      const plan = await planner.plan(version, request.query, nameOf(request), request.query);
      return { plan, operationContext: context(request, plan) };
    },
    async planSubscription(request) {
      const queryPlan = await planner.plan(version, request.query, nameOf(request), request.query);
      if (queryPlan.node?.kind !== 'Subscription') throw new Error('The operation is not a subscription.');
      const node = queryPlan.node;
      return {
        node,
        // executeQueryPlan refuses Subscription nodes but runs this equivalent: the primary fetch
        // (answered per event from the upstream stream) followed by the rest of the plan.
        perEvent: { kind: 'QueryPlan', node: node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary },
        operationContext: context(request, queryPlan),
      };
    },
  };
}
