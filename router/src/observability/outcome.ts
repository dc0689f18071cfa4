/**
 * The outcome of one answered request, from its HTTP status and the codes of the errors it sent
 * (in order). `server_error` when anything went wrong on our side: a 5xx, an uncoded or internal
 * error, a subgraph that did not answer (the client gets partial data, but it asked for nothing
 * wrong). `client_error` when every error is the client's (a limit, a typo, a bad token, FORBIDDEN
 * on a field). The code is the first error's of that kind, the one a dashboard groups by.
 */
import type { Outcome } from './metrics.ts';

/** Codes that say the router or a subgraph failed, not the client. */
const SERVER_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SUBGRAPH_UNAVAILABLE', 'GATEWAY_TIMEOUT', 'SERVICE_UNAVAILABLE']);

/** An error sent without a code (a foreign subgraph's) is treated as ours: nobody can say it was the client's. */
export const UNCODED = 'INTERNAL_SERVER_ERROR';

export function outcomeOf(status: number, codes: readonly string[]): { outcome: Outcome; code: string | undefined } {
  const serverCode = codes.find((c) => SERVER_CODES.has(c));
  if (serverCode) return { outcome: 'server_error', code: serverCode };
  if (status >= 500) return { outcome: 'server_error', code: codes[0] };
  if (codes.length || status >= 400) return { outcome: 'client_error', code: codes[0] };
  return { outcome: 'ok', code: undefined };
}
