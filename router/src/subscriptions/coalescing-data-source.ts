/**
 * Coalesces identical entity fetches that are in flight at the same time. One event fans out to
 * every client subscribed to it, and each client's copy runs the rest of the plan: a thousand
 * anonymous watchers of a course would otherwise send the same `_entities` request to users a
 * thousand times per event. Requests are identical only with the same operation, variables and
 * token, so one viewer never receives what was fetched with another's credentials.
 *
 * Each caller gets its own copy: executeQueryPlan mutates fetched data as it merges it.
 * Only the subscription executor uses this; HTTP queries keep their own data sources.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { RouterContext } from '../context.ts';

type Response = Awaited<ReturnType<GraphQLDataSource<RouterContext>['process']>>;

export function coalescing(source: GraphQLDataSource<RouterContext>): GraphQLDataSource<RouterContext> {
  const inFlight = new Map<string, Promise<Response>>();
  return {
    async process(options) {
      const authorization = 'context' in options ? (options.context as RouterContext | undefined)?.authorization : undefined;
      const key = JSON.stringify([authorization ?? '', options.request.query, options.request.variables ?? {}]);
      let pending = inFlight.get(key);
      if (!pending) {
        pending = source.process(options);
        inFlight.set(key, pending);
        const forget = () => inFlight.delete(key);
        pending.then(forget, forget);
      }
      return structuredClone(await pending);
    },
  };
}
