/**
 * Which edge limit an error reports, for `campus_router_operations_refused_total{limit, code}`:
 * every refusal is a GraphQL error with its own code (docs/edge.md), so the codes are the one
 * place HTTP and graphql-ws refusals meet. Codes that are not limits (a bad token, a typo in a
 * field name) are not refusals by a limit and give undefined.
 */
import type { GraphQLFormattedError } from 'graphql';
import { CostCode } from '../edge/cost.ts';
import { HttpErrorCode } from '../edge/http-errors.ts';
import { LimitCode } from '../edge/limits.ts';
import { RATE_LIMITED, type RateLimitName } from '../edge/rate-limits.ts';
import { PersistedQueryCode } from '../edge/trusted-documents.ts';
import { ResponseCode } from '../planning/executor.ts';
import { PlanningCode } from '../planning/planner-pool.ts';

const LIMIT_BY_CODE: Record<string, string> = {
  [LimitCode.TOO_MANY_TOKENS]: 'tokens',
  [LimitCode.OPERATION_TOO_DEEP]: 'depth',
  [LimitCode.TOO_MANY_ALIASES]: 'aliases',
  [LimitCode.TOO_MANY_ROOT_FIELDS]: 'root_fields',
  [LimitCode.TOO_MANY_DIRECTIVES]: 'directives',
  [CostCode.OPERATION_TOO_EXPENSIVE]: 'cost',
  [PlanningCode.QUERY_PLANNING_TIMEOUT]: 'planning_timeout',
  [ResponseCode.RESPONSE_TOO_LARGE]: 'response_size',
  [HttpErrorCode.PAYLOAD_TOO_LARGE]: 'request_size',
  [PersistedQueryCode.NOT_IN_LIST]: 'trusted_documents',
};

/** Each rate limit by name (edge/rate-limits.ts), so an alert can tell a flood from a password guesser. */
const RATE_LIMITS: Record<RateLimitName, string> = {
  address: 'rate_address',
  user: 'rate_user',
  strictAddress: 'rate_strict_address',
  strictUser: 'rate_strict_user',
  wsConnectionsPerAddress: 'rate_ws_connections_per_address',
  wsOperationsInFlight: 'rate_ws_operations_in_flight',
  wsOperationsPerSecond: 'rate_ws_operations_per_second',
};

/** The limit `error` reports, or undefined when it reports none. */
export function refusedBy(error: Pick<GraphQLFormattedError, 'extensions'>): string | undefined {
  const extensions = error.extensions ?? {};
  // A subgraph's own refusal (the users service's login throttling answers RATE_LIMITED too)
  // reaches the client with the subgraph's name; it is the subgraph's to count, not the router's.
  if (extensions.serviceName !== undefined) return undefined;
  const code = extensions.code;
  if (typeof code !== 'string') return undefined;
  if (code === RATE_LIMITED) return RATE_LIMITS[extensions.rateLimit as RateLimitName] ?? 'rate_other';
  return LIMIT_BY_CODE[code];
}

/** The limit name of a WebSocket upgrade refusal (edge/ws-rate-limits.ts). */
export function rateLimitLabel(name: RateLimitName): string {
  return RATE_LIMITS[name];
}
