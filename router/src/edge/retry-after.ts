/**
 * Retry-After for RATE_LIMITED errors that come from a subgraph, so every rate limit reads the
 * same to an HTTP client: the users service's login throttling (subgraphs/users/src/login-throttle.ts)
 * answers RATE_LIMITED with `extensions.retryAfterSeconds`, which reaches the router as an ordinary
 * error in the subgraph's response, with no header. The router's own refusals
 * (edge/rate-limits.ts) set their header and status themselves and are left alone.
 *
 *   Retry-After   the longest wait any RATE_LIMITED error of the response asks for, in whole seconds
 *   429           only when the response carries no data at all: the whole operation was refused,
 *                 as with the router's own limits; with partial data the status stays 200, since
 *                 other fields did answer
 *
 * graphql-ws has no headers: there the error's `retryAfterSeconds` is the whole signal.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { RouterContext } from '../context.ts';
import { RATE_LIMITED } from './rate-limits.ts';

/** The longest wait asked for by the RATE_LIMITED errors among `errors`, or undefined. */
export function retryAfterOf(errors: readonly GraphQLFormattedError[] | undefined): number | undefined {
  let longest: number | undefined;
  for (const error of errors ?? []) {
    const seconds = error.extensions?.retryAfterSeconds;
    if (error.extensions?.code !== RATE_LIMITED || typeof seconds !== 'number' || !Number.isFinite(seconds)) continue;
    // Whole seconds, at least 1, as the router's own limits answer (edge/rate-limits.ts retryAfterSeconds).
    const whole = Math.max(1, Math.ceil(seconds));
    longest = longest === undefined ? whole : Math.max(longest, whole);
  }
  return longest;
}

/**
 * Applies the rule above to an answer about to be sent, unless it has a Retry-After already: for
 * Apollo Server's answers (the plugin below) and the fast path's (fast-path/graphql-response.ts).
 */
export function applyRetryAfter(
  answer: { headers: { has(name: string): boolean; set(name: string, value: string): unknown }; setStatus(status: number): void },
  errors: readonly GraphQLFormattedError[] | undefined,
  data: unknown,
): void {
  if (answer.headers.has('retry-after')) return;
  const seconds = retryAfterOf(errors);
  if (seconds === undefined) return;
  answer.headers.set('retry-after', String(seconds));
  if (data == null) answer.setStatus(429);
}

export function retryAfterPlugin(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          applyRetryAfter({ headers: response.http.headers, setStatus: (status) => (response.http.status = status) }, errors, data);
        },
      };
    },
  };
}
