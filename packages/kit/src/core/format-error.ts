/**
 * What a client may see of an error. In production, anything that is not one of our coded errors
 * (docs/edge/http-errors.md) becomes a plain INTERNAL_SERVER_ERROR: no stack, no SQL, no message
 * from a library. The original is logged with the request id instead.
 */
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger.ts';

const CLIENT_SAFE_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  // Account deletion's refusals (subgraphs/users/src/account-deletion.ts, docs/privacy.md): each
  // names the one thing the client must wait for or do first.
  'DELETION_ALREADY_REQUESTED',
  'PAYMENT_IN_FLIGHT',
  'ERASURE_STARTED',
  // Apollo Server's own codes for malformed requests are safe and useful to clients.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  // A subgraph down or too slow (router/src/subgraph-resilience.ts): the client keeps the others' data.
  'SUBGRAPH_UNAVAILABLE',
  'GATEWAY_TIMEOUT',
  // The router's edge refusals (router/src/edge/): what the client sent, each code naming the limit.
  'TOO_MANY_TOKENS',
  'OPERATION_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_ROOT_FIELDS',
  'TOO_MANY_DIRECTIVES',
  'OPERATION_TOO_EXPENSIVE',
  'QUERY_PLANNING_TIMEOUT',
  // The planner refused a validated operation (router/src/planning/planner-pool.ts answers it with
  // HTTP 400): the client can act on its message; a stack would show only the thread's plumbing.
  'QUERY_PLANNING_FAILED',
  'RESPONSE_TOO_LARGE',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'PERSISTED_QUERY_HASH_MISMATCH',
]);

/** Operational conditions rather than bugs: worth a warning with the subgraph's name, not a stack. */
const DEGRADED_CODES = new Set(['SUBGRAPH_UNAVAILABLE', 'GATEWAY_TIMEOUT']);

/**
 * The client's operation, but one validation let through and the planner could not plan: worth an
 * operator's look (a planner limit, or a supergraph that composes but cannot be planned), so at
 * warn with the planner's message, still without a stack.
 */
const NOTABLE_CLIENT_CODES = new Set(['QUERY_PLANNING_FAILED']);

export function formatErrorFor(production: boolean, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && DEGRADED_CODES.has(code)) {
      logger.warn({ code, serviceName: formatted.extensions?.serviceName, reason: formatted.extensions?.reason }, formatted.message);
    }
    if (typeof code === 'string' && CLIENT_SAFE_CODES.has(code)) {
      // Expected, the client's doing: counted at info, without a stack (a stack at error would page
      // someone for a typo). No message for BAD_USER_INPUT: graphql-js quotes the variables' values
      // in it, passwords included.
      if (NOTABLE_CLIENT_CODES.has(code)) {
        logger.warn({ code, path: formatted.path, message: formatted.message }, 'client error');
      } else if (!DEGRADED_CODES.has(code)) {
        logger.info({ code, path: formatted.path, message: code === 'BAD_USER_INPUT' ? undefined : formatted.message }, 'client error');
      }
      return formatted;
    }
    logger.error({ err: error, path: formatted.path }, 'unexpected error');
    if (!production) return formatted;
    return {
      message: 'Something went wrong on our side. It has been logged; try again later.',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
