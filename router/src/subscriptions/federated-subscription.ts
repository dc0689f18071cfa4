/**
 * One client subscription, executed across the supergraph (docs/subscriptions.md):
 *
 *   plan      the gateway's query planner splits it into a primary fetch (a subscription on the
 *             subgraph that owns the root field) and the rest (entity fetches on other subgraphs)
 *   primary   opened on the owning subgraph over graphql-ws (see upstream.ts)
 *   per event the rest of the plan runs with the event as the primary's answer (execute-event.ts)
 *             and the result goes to the client, in event order
 *
 * Either side ending ends the other: the client completing or leaving completes the upstream
 * subscription; the upstream completing or failing completes the client's (failures as a final
 * result with errors, as graphql-ws clients expect).
 */
import { createPushIterator } from '@campus/kit/events';
import { GraphQLError, type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import { executeEvent, type EventRequest } from './execute-event.ts';
import type { SupergraphState } from '../planning/supergraph-state.ts';
import type { UpstreamConnections } from './upstream.ts';

/**
 * Events waiting for a slow client beyond this end its subscription: the router must not buffer
 * without bound for a client that stopped reading.
 */
export const MAX_PENDING_EVENTS = 1_000;

export interface FederatedSubscribeOptions {
  state: SupergraphState;
  upstream: UpstreamConnections;
  request: EventRequest;
  onStart?: () => void;
  onEnd?: () => void;
}

const failure = (message: string, code = 'INTERNAL_SERVER_ERROR'): ExecutionResult => ({
  data: null,
  errors: [new GraphQLError(message, { extensions: { code } })],
});

function upstreamFailure(serviceName: string, error: unknown): ExecutionResult {
  // graphql-ws reports an upstream `error` message as the array of GraphQL errors it carried.
  if (Array.isArray(error) && error.every((e) => typeof e?.message === 'string')) {
    return {
      data: null,
      errors: error.map((e: { message: string; extensions?: Record<string, unknown> }) =>
        new GraphQLError(e.message, { extensions: { ...e.extensions, serviceName } }),
      ),
    };
  }
  return failure(`The ${serviceName} service ended the subscription unexpectedly. Subscribe again.`);
}

function pick(variables: Record<string, unknown>, names: string[] | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names ?? []) if (name in variables) picked[name] = variables[name];
  return picked;
}

export async function federatedSubscribe({ state, upstream, request, onStart, onEnd }: FederatedSubscribeOptions): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  let plan;
  try {
    plan = await state.planSubscription(request);
  } catch (e) {
    // Over the planning budget or refused by the planner: the client's operation, not our fault.
    if (e instanceof GraphQLError) return { data: null, errors: [e] };
    request.logger.warn({ err: e }, 'could not plan a subscription');
    return failure(`This subscription cannot be planned: ${(e as Error).message}`, 'GRAPHQL_VALIDATION_FAILED');
  }
  const { primary } = plan.node;
  const url = state.urls.get(primary.serviceName);
  if (!url) return failure(`The supergraph names no URL for the ${primary.serviceName} service.`);

  let unsubscribe: () => void = () => {};
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    onEnd?.();
  };
  const channel = createPushIterator<ExecutionResult>(end);
  // Events are resolved one after the other, so the client sees them in the order they happened.
  let chain = Promise.resolve();
  const then = (step: () => Promise<void> | void) => {
    chain = chain.then(step).catch((e) => {
      request.logger.error({ err: e }, 'subscription event failed');
      channel.push(failure('Resolving this subscription event failed on our side.'));
      channel.end();
    });
  };

  onStart?.();
  unsubscribe = upstream.subscribe(
    primary.serviceName,
    url,
    { query: primary.operation, operationName: primary.operationName ?? null, variables: pick(request.variables, primary.variableUsages) },
    {
      next: (event) =>
        then(async () => {
          if (channel.done) return;
          if (channel.size >= MAX_PENDING_EVENTS) {
            channel.push(failure('This client fell too far behind its subscription; subscribe again.'));
            channel.end();
            return;
          }
          channel.push(await executeEvent(state, plan, request, event as FormattedExecutionResult));
        }),
      error: (error) =>
        then(() => {
          channel.push(upstreamFailure(primary.serviceName, error));
          channel.end();
        }),
      complete: () => then(() => channel.end()),
    },
  );
  return channel.iterator;
}
