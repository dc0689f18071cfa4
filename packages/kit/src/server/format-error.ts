/**
 * What a client may see of an error. In production, anything that is not one of our coded errors
 * (ARCHITECTURE.md section 8) becomes a plain INTERNAL_SERVER_ERROR: no stack, no SQL, no message
 * from a library. The original is logged with the request id instead.
 */
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from '../logger.ts';

const CLIENT_SAFE_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  // Apollo Server's own codes for malformed requests are safe and useful to clients.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export function formatErrorFor(production: boolean, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_SAFE_CODES.has(code)) return formatted;
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
