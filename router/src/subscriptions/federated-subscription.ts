/**
 * One client subscription, executed across the supergraph (docs/subscriptions.md):
 *
 *   plan      the gateway's query planner splits it into a primary fetch (a subscription on the
 *             subgraph that owns the root field) and the rest (entity fetches on other subgraphs)
 *   primary   shared with every identical client subscription of the same viewer scope: one
 *             upstream subscription on the owning subgraph (shared-subscriptions.ts, upstream.ts)
 *   per event the rest of the plan runs once per group of identical subscriptions, with the event
 *             as the primary's answer (execute-event.ts), and the result goes to each client, in
 *             event order
 *
 * Either side ending ends the other: the client completing or leaving takes it out of the shared
 * subscription (the last one out completes it upstream); the upstream completing or failing
 * completes the client's (failures as a final result with errors, as graphql-ws clients expect).
 */
import { createPushIterator } from '@campus/kit/events';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { EventRequest } from './execute-event.ts';
import type { SharedSubscriptions } from './shared-subscriptions.ts';
import type { SupergraphState } from '../planning/supergraph-state.ts';

/**
 * Events waiting for a slow client beyond this end its subscription: the router must not buffer
 * without bound for a client that stopped reading.
 */
export const MAX_PENDING_EVENTS = 1_000;

export interface FederatedSubscribeOptions {
  state: SupergraphState;
  shared: SharedSubscriptions;
  request: EventRequest;
  onStart?: () => void;
  onEnd?: () => void;
}

const failure = (message: string, code = 'INTERNAL_SERVER_ERROR'): ExecutionResult => ({
  data: null,
  errors: [new GraphQLError(message, { extensions: { code } })],
});

export async function federatedSubscribe({ state, shared, request, onStart, onEnd }: FederatedSubscribeOptions): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  let plan;
  try {
    plan = await state.planSubscription(request);
  } catch (e) {
    // Over the planning budget or refused by the planner: the client's operation, not our fault.
    if (e instanceof GraphQLError) return { data: null, errors: [e] };
    request.logger.warn({ err: e }, 'could not plan a subscription');
    return failure(`This subscription cannot be planned: ${(e as Error).message}`, 'GRAPHQL_VALIDATION_FAILED');
  }
  const url = state.urls.get(plan.node.primary.serviceName);
  if (!url) return failure(`The supergraph names no URL for the ${plan.node.primary.serviceName} service.`);

  let leave: () => void = () => {};
  let ended = false;
  const channel = createPushIterator<ExecutionResult>(() => {
    if (ended) return;
    ended = true;
    leave();
    onEnd?.();
  });
  onStart?.();
  leave = shared.join(
    { state, plan, url, request },
    {
      push(result) {
        if (channel.done) return;
        if (channel.size >= MAX_PENDING_EVENTS) {
          channel.push(failure('This client fell too far behind its subscription; subscribe again.'));
          channel.end();
          return;
        }
        channel.push(result);
      },
      end: () => channel.end(),
    },
  );
  return channel.iterator;
}
