/**
 * The gateway Apollo Server talks to: `@apollo/gateway` loads, watches and validates the
 * supergraph as before, but operations run through our executor, which plans on the planner
 * threads with a time budget (planner-pool.ts) instead of on the router's own thread, executes
 * the plan with the gateway's own `executeQueryPlan`, and caps the size of what it returns.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { executeQueryPlan } from './federation-adapter.mjs';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { getVariableValues, GraphQLError } from 'graphql';
import type { RouterContext } from '../context.ts';
import type { SupergraphTracker } from './supergraph-state.ts';

export const ResponseCode = { RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE' } as const;

export interface ExecutorOptions {
  /** Largest response body (bytes of JSON) returned to a client. */
  maxResponseBytes: number;
}

export function planningGateway(gateway: ApolloGateway, tracker: SupergraphTracker, options: ExecutorOptions): GatewayInterface {
  async function executor(requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult> {
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
    const result = await executeQueryPlan(
      plan,
      state.dataSources,
      requestContext as GatewayGraphQLRequestContext<RouterContext>,
      operationContext,
      state.supergraphSchema,
      state.api,
    );
    return capped(result, options.maxResponseBytes);
  }

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
  const bytes = Buffer.byteLength(JSON.stringify(result.data));
  if (bytes <= maxBytes) return result;
  return {
    data: null,
    errors: [
      new GraphQLError(`The response would be ${bytes} bytes, over the limit of ${maxBytes}. Ask for fewer items per page (first) or fewer fields.`, {
        extensions: { code: ResponseCode.RESPONSE_TOO_LARGE, limit: maxBytes, found: bytes },
      }),
    ],
  };
}
