/**
 * What a subgraph's GraphQL traffic looks like from outside (docs/observability.md), as an Apollo
 * Server plugin the kit's subgraph server installs, so every service counts the same way:
 *
 *   campus_graphql_requests_total{operation_type}   counter: operations answered over HTTP
 *   campus_graphql_errors_total{code}               counter: errors in those answers, by extensions.code
 *
 * `operation_type` is query / mutation / subscription, or `unknown` when the request never got as
 * far as naming one (unparsable, invalid, refused while building its context). `code` is the
 * error's extensions.code as our resolvers throw it (NOT_FOUND, FORBIDDEN, ...; core/errors.ts),
 * INTERNAL_SERVER_ERROR for an error without one: a fault, which clients see under that code too.
 * Both label sets are bounded: codes come from the server's own code, never from the request, and
 * anything that does not look like a code is counted as INTERNAL_SERVER_ERROR.
 *
 * Subscriptions over graphql-ws do not pass through Apollo Server and are not counted here.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { counter, type MetricsRegistry } from '../core/metrics.ts';

const FALLBACK_CODE = 'INTERNAL_SERVER_ERROR';
/** What our codes look like; anything else (a library's free text) must not become a label value. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The label an error is counted under. */
export function errorCodeOf(error: unknown): string {
  const code = (error as Partial<GraphQLError> | null)?.extensions?.code;
  return typeof code === 'string' && CODE.test(code) ? code : FALLBACK_CODE;
}

export function graphqlMetricsPlugin(registry: MetricsRegistry): ApolloServerPlugin<BaseContext> {
  const requests = counter(registry, 'campus_graphql_requests_total', 'GraphQL operations the subgraph answered over HTTP, by operation type.', ['operation_type']);
  const errors = counter(registry, 'campus_graphql_errors_total', 'Errors in GraphQL answers, by extensions.code (INTERNAL_SERVER_ERROR when uncoded).', ['code']);
  const countErrors = (list: readonly unknown[]) => {
    for (const error of list) errors.inc({ code: errorCodeOf(error) });
  };
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors: list }) {
          countErrors(list);
        },
        async didEncounterSubsequentErrors(_ctx, list) {
          countErrors(list);
        },
        async willSendResponse({ operation }) {
          requests.inc({ operation_type: operation?.operation ?? 'unknown' });
        },
      };
    },
    // A context that refuses the request (an invalid token: UNAUTHENTICATED) ends it before
    // requestDidStart: counted here, or such refusals would never show.
    async contextCreationDidFail({ error }) {
      countErrors([error]);
      requests.inc({ operation_type: 'unknown' });
    },
  };
}
