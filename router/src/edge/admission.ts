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
 *   HTTP       sourceAdmission (Express middleware before Apollo Server) and Apollo Server's
 *              `didResolveOperation` hook (admissionPlugin); the fast path runs the operation
 *              stage itself (fast-path/fast-path.ts) and hands a refusal to that hook to answer
 *   graphql-ws ws-server.ts runs both stages itself in onSubscribe, then hands queries and
 *              mutations to Apollo Server with `admitted` set, so nothing is checked (or counted)
 *              twice
 *
 * A check refuses by throwing a GraphQLError with an `extensions.code`; `extensions.http` (status
 * and headers such as Retry-After) applies on HTTP and is dropped on WebSocket.
 */
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import type { RouterContext } from '../context.ts';

export interface EdgeSource {
  transport: 'http' | 'ws';
  /**
   * The operation's text as the client sent it; '' at the HTTP source stage when the request
   * carries only a persisted-query id (Apollo Server resolves it later).
   */
  query: string;
  /** sha256 (hex) of `query`, or the persisted-query id the request carries instead. */
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
  for (const check of checks) {
    // Most checks answer synchronously; awaiting those would cost a turn of the microtask queue each.
    const pending = check(input);
    if (pending) await pending;
  }
}

/**
 * The operation stage on HTTP. (Apollo Server answers a throw from its earlier hooks with a bare
 * 500, so the source stage runs before it, in sourceAdmission below.)
 */
export function admissionPlugin(checks: AdmissionChecks): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          if (!rc.operation) return;
          // Checked already: by graphql-ws, or by the fast path (fast-path/fast-path.ts), which
          // leaves a refusal for Apollo Server to answer as it answers any refusal of this hook.
          if (rc.contextValue.admitted) {
            if (rc.contextValue.refusal !== undefined) throw rc.contextValue.refusal;
            return;
          }
          await admit(checks.operation, {
            transport: 'http',
            query: rc.source,
            queryHash: rc.queryHash,
            context: rc.contextValue,
            headers: { get: (name) => rc.request.http?.headers.get(name) ?? undefined },
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

/** What a GraphQL-over-HTTP request carries before Apollo Server reads it (POST body or GET query). */
function requestOf(req: Request): { query?: unknown; extensions?: unknown } | undefined {
  if (req.method === 'GET') {
    const { query, extensions } = req.query as Record<string, unknown>;
    if (query === undefined && extensions === undefined) return undefined;
    let parsed: unknown = extensions;
    if (typeof extensions === 'string') {
      try {
        parsed = JSON.parse(extensions);
      } catch {
        parsed = undefined;
      }
    }
    return { query, extensions: parsed };
  }
  const body: unknown = req.body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as { query?: unknown; extensions?: unknown }) : undefined;
}

/**
 * The source stage on HTTP: Express middleware between the JSON body parser and Apollo Server.
 * A request that carries only a persisted-query id has no text yet: `query` is '' and
 * `queryHash` is the id. A refusal is answered here, in the GraphQL response format, with the
 * error's status and headers; anything Apollo Server would refuse anyway (no body, a batch, a bad
 * token) is left to it.
 */
export function sourceAdmission(
  checks: AdmissionChecks,
  contextOf: (req: Request) => Promise<RouterContext>,
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): RequestHandler {
  return async (req, res, next) => {
    const request = requestOf(req);
    if (!request) return next();
    const query = typeof request.query === 'string' ? request.query : '';
    const persisted = (request.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
    let context: RouterContext;
    try {
      context = await contextOf(req);
    } catch {
      // A bad token: Apollo Server answers it (401) from the same promise. The checks still run,
      // as for an anonymous client at this address, so a flood of garbage tokens is counted too.
      context = { viewer: null, clientIp: req.ip };
    }
    try {
      let queryHash: string | undefined;
      await admit(checks.source, {
        transport: 'http',
        query,
        // Hashed only when a check reads it (trusted documents do; with them off, none does): a
        // SHA-256 of every text was about 1 % of the router's CPU per answer under small queries.
        get queryHash() {
          return (queryHash ??= query ? createHash('sha256').update(query).digest('hex') : typeof persisted === 'string' ? persisted : '');
        },
        context,
        headers: { get: (name) => req.get(name) },
      });
    } catch (e) {
      if (!(e instanceof GraphQLError)) return next(e);
      const { http, ...extensions } = e.extensions as { http?: { status?: number; headers?: Iterable<[string, string]> } };
      for (const [name, value] of http?.headers ?? []) res.setHeader(name, value);
      const error = new GraphQLError(e.message, { extensions });
      res.status(http?.status ?? 400).json({ errors: [formatError(error.toJSON(), error)] });
      return;
    }
    next();
  };
}
