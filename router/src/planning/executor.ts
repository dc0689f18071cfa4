/**
 * The gateway Apollo Server talks to: `@apollo/gateway` loads, watches and validates the
 * supergraph as before, but operations run through our executor, which plans on the planner
 * threads with a time budget (planner-pool.ts) instead of on the router's own thread, executes
 * the plan with the router's own plan executor (plan-executor/; the gateway's `executeQueryPlan`
 * for what it does not cover, or for everything with ROUTER_PLAN_EXECUTOR=gateway), and caps the
 * size of what it returns.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { executePlan } from './plan-executor/execute-plan.ts';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { getVariableValues, GraphQLError } from 'graphql';
import type { RouterContext } from '../context.ts';
import type { SupergraphTracker } from './supergraph-state.ts';

export const ResponseCode = { RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE' } as const;

export interface ExecutorOptions {
  /** Largest response body (bytes of JSON) returned to a client. */
  maxResponseBytes: number;
}

/**
 * Runs one operation Apollo Server (or the fast path, fast-path/fast-path.ts) has parsed and
 * validated: plans it on a planner thread and executes the plan. Uncapped: each caller measures
 * the size of what it sends (capped below; the fast path on its own serialization).
 */
export function operationExecutor(tracker: SupergraphTracker): (requestContext: GatewayGraphQLRequestContext) => Promise<GatewayExecutionResult> {
  return async (requestContext) => {
    const state = tracker.current();
    if (!state) {
      return { errors: [new GraphQLError('The router has not loaded a supergraph yet; retry shortly.', { extensions: { code: 'SERVICE_UNAVAILABLE' } })] };
    }
    const { request, document, operation } = requestContext;
    // Apollo Server hands over a document whose operation it could not pick (several and no
    // operationName, or a name the document lacks) with `operation` undefined. The client's
    // mistake: answered as graphql-js's execute() answers it, which Apollo Server turns into
    // OPERATION_RESOLUTION_FAILURE (HTTP 400), not a crash logged as a fault.
    if (!operation) {
      const name = request.operationName;
      return { errors: [new GraphQLError(name ? `Unknown operation named "${name}".` : 'Must provide operation name if query contains multiple operations.')] };
    }
    // Subscriptions are served over graphql-ws (subscriptions/); executeQueryPlan would throw on one.
    if (operation.operation === 'subscription') {
      return {
        errors: [
          new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) at this URL, not over HTTP.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          }),
        ],
      };
    }
    // As the gateway does: variables are coerced here only to report bad ones; subgraphs get them raw.
    const coerced = getVariableValues(state.apiSchema, operation.variableDefinitions ?? [], request.variables ?? {});
    if (coerced.errors) return { errors: coerced.errors };

    let planned;
    try {
      planned = await state.plan({ query: requestContext.source, document, operationName: request.operationName ?? undefined });
    } catch (e) {
      // Over the planning budget, or refused by the planner: answered like a validation error.
      if (e instanceof GraphQLError) return { errors: [e] };
      throw e;
    }
    const { plan, operationContext } = planned;
    return executePlan(state.planExecutor, {
      plan,
      operationContext,
      serviceMap: state.dataSources,
      requestContext: requestContext as GatewayGraphQLRequestContext<RouterContext>,
      supergraphSchema: state.supergraphSchema,
      apiSchema: state.api,
    });
  };
}

export function planningGateway(gateway: ApolloGateway, tracker: SupergraphTracker, options: ExecutorOptions): GatewayInterface {
  const execute = operationExecutor(tracker);
  const executor = async (requestContext: GatewayGraphQLRequestContext) => capped(await execute(requestContext), options.maxResponseBytes);

  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    async load(loadOptions) {
      await gateway.load(loadOptions);
      return { executor };
    },
    stop: () => gateway.stop(),
  };
}

/**
 * A response over the cap is replaced by an error: a client that needs more pages asks for them.
 * Measured as the JSON the client would receive; demand control keeps most operations far below.
 */
function capped(result: GatewayExecutionResult, maxBytes: number): GatewayExecutionResult {
  if (result.data === undefined || result.data === null) return result;
  const bytes = byteLengthIfOver(JSON.stringify(result.data), maxBytes);
  return bytes === undefined ? result : { data: null, errors: [responseTooLarge(bytes, maxBytes)] };
}

/**
 * The UTF-8 size of `json` when it is over `maxBytes`, undefined when it is not. UTF-8 takes at
 * most 3 bytes per UTF-16 code unit, so a text under a third of the cap is not measured: counting
 * the bytes of a large answer costs as much as a second pass over it.
 */
export function byteLengthIfOver(json: string, maxBytes: number): number | undefined {
  if (json.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(json);
  return bytes > maxBytes ? bytes : undefined;
}

export function responseTooLarge(bytes: number, maxBytes: number): GraphQLError {
  return new GraphQLError(`The response would be ${bytes} bytes, over the limit of ${maxBytes}. Ask for fewer items per page (first) or fewer fields.`, {
    extensions: { code: ResponseCode.RESPONSE_TOO_LARGE, limit: maxBytes, found: bytes },
  });
}
