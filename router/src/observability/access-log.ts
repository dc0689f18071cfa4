/**
 * The access log: one info line per GraphQL request over HTTP at the router, once it is answered
 * (docs/observability.md, "Access log"). What an operator needs to find one request (its id, which
 * the subgraphs' lines carry too), who sent it and how it went; never a body, a query's text,
 * variables or a token. The user id is the authenticated viewer's, absent for anonymous requests
 * and bad tokens; the address is the one rate limits count (TRUST_PROXY-aware, edge/trust-proxy.ts).
 */
import type { Logger } from '@campus/kit/core';
import type { OperationType, Outcome } from './metrics.ts';

export interface AccessLogEntry {
  requestId: string;
  method: string;
  /** As the client named it (cut to a readable length); absent for an anonymous operation. */
  operationName: string | undefined;
  operationType: OperationType;
  status: number;
  outcome: Outcome;
  /**
   * extensions.code of the error that decided the outcome. Not `code`: the per-error lines of
   * formatError (packages/kit/src/core/format-error.ts) use that, one per error, and a search for
   * them must not find every access line too.
   */
  errorCode: string | undefined;
  durationMs: number;
  clientAddress: string | undefined;
  userId: string | undefined;
  /** The client went away before the answer was sent. */
  aborted?: boolean;
}

export const ACCESS_LOG_MESSAGE = 'graphql request';
const MAX_NAME_LENGTH = 100;

export function logAccess(logger: Logger, entry: AccessLogEntry): void {
  const operationName = entry.operationName && entry.operationName.length > MAX_NAME_LENGTH ? `${entry.operationName.slice(0, MAX_NAME_LENGTH)}…` : entry.operationName;
  logger.info({ ...entry, operationName, durationMs: Math.round(entry.durationMs * 10) / 10 }, ACCESS_LOG_MESSAGE);
}
