/**
 * Admission: the checks every operation passes before it is planned, the same checks in the same
 * order for HTTP and for graphql-ws, in two stages:
 *
 *   source     the operation's text, before it is parsed (cheap refusals: trusted documents,
 *              token count, per-address request rate)
 *   operation  the parsed and validated operation with its variables, before planning (cost,
 *              per-field rate limits)
 *
 * Between the two, parsing and validation apply the operation limits (edge/limits.ts).
 *
 *   HTTP       Apollo Server's `didResolveSource` and `didResolveOperation` hooks (admissionPlugin)
 *   graphql-ws ws-server.ts runs both stages itself in onSubscribe, then hands queries and
 *              mutations to Apollo Server with `admitted` set, so nothing is checked (or counted)
 *              twice
 *
 * A check refuses by throwing a GraphQLError with an `extensions.code`; `extensions.http` (status
 * and headers such as Retry-After) applies on HTTP and is dropped on WebSocket.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { RouterContext } from '../context.ts';

export interface EdgeSource {
  transport: 'http' | 'ws';
  /** The operation's text as the client sent it (or as a persisted-query id resolved to). */
  query: string;
  /** sha256 (hex) of `query`. */
  queryHash: string;
  context: RouterContext;
  /** The request's HTTP headers (HTTP) or the upgrade request's (WebSocket), by lower-case name. */
  headers: { get(name: string): string | undefined };
}

export interface EdgeOperation extends EdgeSource {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  /** Raw variables as sent: checks read paging arguments from them. */
  variables: Record<string, unknown>;
}

export interface AdmissionChecks {
  source: readonly ((source: EdgeSource) => void | Promise<void>)[];
  operation: readonly ((operation: EdgeOperation) => void | Promise<void>)[];
}

/** Runs every check of a stage in order; the first refusal wins. */
export async function admit<T>(checks: readonly ((input: T) => void | Promise<void>)[], input: T): Promise<void> {
  for (const check of checks) await check(input);
}

export function admissionPlugin(checks: AdmissionChecks): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        // A throw here is answered by Apollo Server as an error response with the error's
        // extensions.http status and headers, before anything is parsed.
        async didResolveSource(rc) {
          if (rc.contextValue.admitted) return;
          await admit(checks.source, sourceOf(rc));
        },
        async didResolveOperation(rc) {
          if (rc.contextValue.admitted || !rc.operation) return;
          await admit(checks.operation, {
            ...sourceOf(rc),
            document: rc.document,
            operation: rc.operation,
            operationName: rc.operationName ?? undefined,
            variables: rc.request.variables ?? {},
          });
        },
      };
    },
  };
}

type RequestContextLike = {
  source: string;
  queryHash: string;
  contextValue: RouterContext;
  request: { http?: { headers: { get(name: string): string | undefined } } | undefined };
};

function sourceOf(rc: RequestContextLike): EdgeSource {
  return {
    transport: 'http',
    query: rc.source,
    queryHash: rc.queryHash,
    context: rc.contextValue,
    headers: { get: (name) => rc.request.http?.headers.get(name) ?? undefined },
  };
}
