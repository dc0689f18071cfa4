/**
 * Turning one upstream event into the client's result: the event is the answer to the plan's
 * primary fetch, and `executeQueryPlan` runs the rest of the plan against the other subgraphs
 * (entity fetches through the router's signed data sources), then shapes the response exactly as
 * for a query — aliases, fragments, __typename, nullability and error paths included.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import { executeQueryPlan, type ServiceMap } from '../planning/federation-adapter.mjs';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { Logger } from '@campus/kit/core';
import type { DocumentNode, ExecutionResult, FormattedExecutionResult } from 'graphql';
import type { RouterContext } from '../context.ts';
import type { SubscriptionPlan, SupergraphState } from '../planning/supergraph-state.ts';

export interface EventRequest {
  query: string;
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  context: RouterContext;
  logger: Logger;
}

/**
 * The primary's data source for one event: answers the primary fetch with the event and sends
 * anything else (the rest of the plan may fetch entities from the same subgraph) to the real one.
 */
function replaying(event: FormattedExecutionResult, primaryOperation: string, real: GraphQLDataSource<RouterContext> | undefined): GraphQLDataSource<RouterContext> {
  return {
    async process(options) {
      if (options.request.query === primaryOperation) {
        return { data: (event.data ?? null) as Record<string, unknown> | null, ...(event.errors ? { errors: [...event.errors] } : {}) };
      }
      if (!real) throw new Error(`No data source for the subscription's subgraph.`);
      return real.process(options);
    },
  };
}

export async function executeEvent(
  state: SupergraphState,
  plan: SubscriptionPlan,
  request: EventRequest,
  event: FormattedExecutionResult,
): Promise<ExecutionResult> {
  const primary = plan.node.primary;
  const serviceMap: ServiceMap = {
    ...state.dataSources,
    [primary.serviceName]: replaying(event, primary.operation, state.dataSources[primary.serviceName]),
  };
  // The parts of a request context that executeQueryPlan and the data sources read.
  const requestContext = {
    request: { query: request.query, operationName: request.operationName, variables: request.variables },
    document: request.document,
    operationName: request.operationName ?? null,
    context: request.context,
    logger: request.logger,
    metrics: {},
    cache: undefined,
  } as unknown as GatewayGraphQLRequestContext<RouterContext>;
  const result = await executeQueryPlan(plan.perEvent, serviceMap, requestContext, plan.operationContext, state.supergraphSchema, state.api);
  return result as ExecutionResult;
}
