/**
 * graphql-ws on the router's own port and path (ws://host:4000/graphql): what the graphql-ws
 * client, Apollo Client's GraphQLWsLink and Apollo Sandbox connect to. Loaded with the first
 * WebSocket upgrade (ws-server.ts).
 *
 *   connection_init  the token in its payload is verified as for HTTP; a bad one closes the
 *                    socket with 4403 (Forbidden); the socket closes again with 4403 when the
 *                    token expires, and graphql-ws clients reconnect with a fresh one; and
 *                    when the token's session ends, after `mySessionEvents` said why
 *                    (session-guard.ts)
 *   subscribe        validated against the supergraph's API schema; subscriptions run through
 *                    the federated executor, queries and mutations through Apollo Server (so a
 *                    WebSocket-only client gets exactly what HTTP would give it)
 *   keep-alive       ws-level pings every `keepAliveMs`; a peer that misses a pong is dropped
 *
 * Identical subscriptions of one viewer scope share one upstream subscription and one run of the
 * rest of the plan per event (shared-subscriptions.ts); limits, session ends and metrics stay per
 * client connection.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import type { Logger } from '@campus/kit/core';
import type { RequestSigner, SessionWatch, TokenVerifier } from '@campus/kit/identity';
import { headerValue } from '@campus/kit/core';
import { sessionEnded } from '@campus/kit/identity';
import {
  getOperationAST,
  specifiedRules,
  getVariableValues,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { RouterContext } from '../context.ts';
import { admit, type AdmissionChecks, type EdgeSource } from '../edge/admission.ts';
import type { OperationLimits } from '../edge/limits.ts';
import type { SubscribePayloadLike } from '../edge/trusted-documents.ts';
import type { WsRateLimits } from '../edge/ws-rate-limits.ts';
import type { TrustProxy } from './client-address.ts';
import { openConnection, type ClientConnection } from './connection.ts';
import { federatedSubscribe } from './federated-subscription.ts';
import { ConnectionSession } from './session-guard.ts';
import { SharedSubscriptions } from './shared-subscriptions.ts';
import { UpstreamPool } from './upstream.ts';
import type { SupergraphState, SupergraphTracker } from '../planning/supergraph-state.ts';

export interface SubscriptionServerOptions {
  tracker: SupergraphTracker;
  apollo: ApolloServer<RouterContext>;
  verifyToken: TokenVerifier;
  /** Tells when the session of a connection's token ends (session-revocation.ts in the kit). */
  sessionWatch: SessionWatch;
  trustProxy: TrustProxy;
  /** Signs the upgrades of the router's sockets to subgraphs (upstream.ts). */
  routerSigner: RequestSigner;
  keepAliveMs: number;
  upstreamRetryAttempts: number;
  /** Largest message accepted from a client, as for HTTP bodies. */
  maxPayloadBytes: number;
  production: boolean;
  logger: Logger;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The text a subscribe message stands for, its persisted-query id resolved (edge/trusted-documents.ts); its `query` when absent. */
  resolveQuery?: (payload: SubscribePayloadLike) => string | GraphQLError;
  /** The same parse options and validation rules HTTP operations get (edge/limits.ts). */
  limits: Pick<OperationLimits, 'parseOptions' | 'validationRules'>;
  /** The same admission checks HTTP operations pass (edge/admission.ts). */
  admissionChecks: AdmissionChecks;
  /** Connections per address, operations in flight and per second per connection (edge/ws-rate-limits.ts). */
  rateLimits: WsRateLimits;
  /** Called for each subscription result sent to a client (the router's metrics count them). */
  onEventDelivered?: () => void;
  /**
   * Called once per operation a client sends over the socket, when its answer is decided: a
   * refusal, a query's or mutation's result, a subscription that started (the router's metrics
   * count them as they count HTTP requests).
   */
  onOperationAnswered?: (answer: WsOperationAnswer) => void;
}

export interface WsOperationAnswer {
  operationName: string | undefined;
  operationType: 'query' | 'mutation' | 'subscription' | 'unknown';
  /** Whether the operation parsed and validated. */
  validated: boolean;
  /** extensions.code of each error sent with the answer, in order. */
  codes: string[];
  seconds: number;
}

export interface SubscriptionStats {
  /** Client graphql-ws connections that passed connection_init. */
  connections: number;
  /** Federated subscriptions running (client subscriptions). */
  subscriptions: number;
  /** Open sockets from the router to subgraphs. */
  upstreamSockets: number;
  /** Subscriptions open on subgraphs, each shared by one or more client subscriptions. */
  upstreamSubscriptions: number;
  /** Client subscriptions ended with SUBSCRIPTION_BACKLOG_FULL since start (shared-subscriptions.ts). */
  backlogOverflows: number;
}

export interface SubscriptionServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): SubscriptionStats;
  close(): Promise<void>;
}

type Extra = {
  connection: ClientConnection;
  expiry: NodeJS.Timeout;
  /** Signed-in connections only: ends the socket when the token's session ends. */
  session?: ConnectionSession;
  unwatch?: () => void;
};

/** What onSubscribe hands to `subscribe`/`execute` as the execution's contextValue. */
interface OperationScope {
  connection: ClientConnection;
  state: SupergraphState;
  query: string;
}

const coded = (errors: readonly GraphQLError[], code: string) =>
  errors.map(
    (e) =>
      new GraphQLError(e.message, {
        nodes: e.nodes ?? null,
        source: e.source ?? null,
        positions: e.positions ?? null,
        extensions: { ...e.extensions, code },
      }),
  );

/** HTTP status and headers mean nothing on a socket. */
function withoutHttp(e: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = e.extensions;
  return new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions });
}

/** Documents parsed and validated, per API schema (one per supergraph) and operation text. */
const checkedDocuments = new WeakMap<GraphQLSchema, Map<string, { document: DocumentNode; invalid: readonly GraphQLError[] }>>();
const CHECKED_DOCUMENTS = 1_000;

/**
 * Parsed and validated once per supergraph and text: a thousand clients subscribing with the same
 * operation share one document (graphql-js documents are never mutated, and parse keeps every
 * token for locations, which would otherwise be retained once per subscription) and one
 * validation. Validation rules see the document only, so their answer holds for every client.
 */
function checkedDocument(
  state: SupergraphState,
  options: Pick<SubscriptionServerOptions, 'limits'>,
  query: string,
): { document: DocumentNode; invalid: readonly GraphQLError[] } | GraphQLError {
  let cache = checkedDocuments.get(state.apiSchema);
  if (!cache) checkedDocuments.set(state.apiSchema, (cache = new Map()));
  const hit = cache.get(query);
  if (hit) return hit;
  let document: DocumentNode;
  try {
    document = parse(query, options.limits.parseOptions);
  } catch (e) {
    return e as GraphQLError;
  }
  const checked = { document, invalid: validate(state.apiSchema, document, [...specifiedRules, ...options.limits.validationRules]) };
  // Oldest out first: bounded however many distinct operations clients send.
  if (cache.size >= CHECKED_DOCUMENTS) cache.delete(cache.keys().next().value!);
  cache.set(query, checked);
  return checked;
}

interface PrepareRequest {
  connection: ClientConnection;
  query: string;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
  headers: IncomingMessage['headers'];
}

async function prepare(
  state: SupergraphState | undefined,
  options: Pick<SubscriptionServerOptions, 'limits' | 'admissionChecks'>,
  { connection, query, operationName, variables, headers }: PrepareRequest,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  if (!state) return [new GraphQLError('The router has not loaded a supergraph yet; retry shortly.', { extensions: { code: 'SERVICE_UNAVAILABLE' } })];
  const source: EdgeSource = {
    transport: 'ws',
    query,
    queryHash: createHash('sha256').update(query).digest('hex'),
    context: connection.context,
    headers: { get: (name) => headerValue(headers, name) },
  };
  try {
    await admit(options.admissionChecks.source, source);
  } catch (e) {
    if (e instanceof GraphQLError) return [withoutHttp(e)];
    throw e;
  }
  const checked = checkedDocument(state, options, query);
  if (checked instanceof GraphQLError) return coded([checked], 'GRAPHQL_PARSE_FAILED');
  const { document, invalid } = checked;
  // Limit refusals carry their own code (OPERATION_TOO_DEEP, ...); graphql-js's own errors get one.
  if (invalid.length) return invalid.map((e) => (typeof e.extensions.code === 'string' ? withoutHttp(e) : coded([e], 'GRAPHQL_VALIDATION_FAILED')[0]!));
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) {
    return [new GraphQLError('Name the operation to run (operationName) or send exactly one.', { extensions: { code: 'BAD_REQUEST' } })];
  }
  const coerced = getVariableValues(state.apiSchema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return coded(coerced.errors, 'BAD_USER_INPUT');
  try {
    await admit(options.admissionChecks.operation, {
      ...source,
      document,
      operation,
      operationName: operationName ?? undefined,
      variables: variables ?? {},
    });
  } catch (e) {
    if (e instanceof GraphQLError) return [withoutHttp(e)];
    throw e;
  }
  const scope: OperationScope = { connection, state, query };
  return {
    schema: state.apiSchema,
    document,
    operationName: operationName ?? undefined,
    // Raw, as the gateway passes them: subgraphs coerce their own arguments.
    variableValues: variables ?? {},
    contextValue: scope,
  };
}

export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { logger, apollo, formatError } = options;
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const counts = { connections: 0, subscriptions: 0, upstreamSockets: 0 };
  const pool = new UpstreamPool({
    signer: options.routerSigner,
    retryAttempts: options.upstreamRetryAttempts,
    onSocketOpened: () => counts.upstreamSockets++,
    onSocketClosed: () => counts.upstreamSockets--,
  });
  const shared = new SharedSubscriptions(pool, logger);

  const format = (errors: readonly (GraphQLError | GraphQLFormattedError)[]) =>
    // Results from Apollo Server (queries over the socket) arrive formatted already.
    errors.map((e) => (e instanceof GraphQLError ? formatError(e.toJSON(), e) : e));

  // Queries and mutations admitted over a socket and not yet answered, per connection and id.
  type PendingAnswer = Omit<WsOperationAnswer, 'codes' | 'seconds'> & { started: number };
  const pendingByConnection = new WeakMap<object, Map<string, PendingAnswer>>();
  const pendingAnswers = (ctx: object) => {
    let pending = pendingByConnection.get(ctx);
    if (!pending) pendingByConnection.set(ctx, (pending = new Map()));
    return pending;
  };
  const answered = (answer: WsOperationAnswer) => options.onOperationAnswered?.(answer);
  const settle = (ctx: object, id: string, errors: readonly { extensions?: { code?: unknown } }[]) => {
    const pending = pendingAnswers(ctx).get(id);
    if (!pending) return;
    pendingAnswers(ctx).delete(id);
    const { started, ...answer } = pending;
    answered({ ...answer, codes: codesOf(errors), seconds: (performance.now() - started) / 1000 });
  };

  const server = useServer<Record<string, unknown>, Extra>(
    {
      isProd: options.production,
      onConnect: async (ctx) => {
        try {
          const connection = await openConnection(options.verifyToken, options.trustProxy, ctx.connectionParams, ctx.extra.request);
          ctx.extra.connection = connection;
          if (connection.expiresAt) {
            const ms = Math.min(Math.max(connection.expiresAt - Date.now(), 0), 2 ** 31 - 1);
            ctx.extra.expiry = setTimeout(() => ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden: the access token expired'), ms);
            ctx.extra.expiry.unref();
          }
          const viewer = connection.context.viewer;
          if (viewer) {
            const session = new ConnectionSession((reason) => ctx.extra.socket.close(CloseCode.Forbidden, reason));
            ctx.extra.session = session;
            ctx.extra.unwatch = options.sessionWatch.watch(viewer.sessionId, (reason) => session.end(reason));
          }
          counts.connections++;
          return true;
        } catch (e) {
          logger.info({ err: e instanceof GraphQLError ? e.message : e }, 'refused a WebSocket connection');
          return false;
        }
      },
      onClose: async (ctx) => {
        clearTimeout(ctx.extra.expiry);
        ctx.extra.unwatch?.();
        ctx.extra.session?.dispose();
        const connection = ctx.extra.connection;
        if (!connection) return;
        // Its subscriptions were completed just before (graphql-ws returns them first), which took
        // them out of the upstream subscriptions they shared (the last one out closes each).
        counts.connections--;
      },
      onSubscribe: async (ctx, id, payload) => {
        const started = performance.now();
        const refuse = (errors: readonly GraphQLError[]) => {
          answered({ operationName: payload.operationName ?? undefined, operationType: 'unknown', validated: false, codes: codesOf(errors), seconds: (performance.now() - started) / 1000 });
          return errors;
        };
        const session = ctx.extra.session;
        if (session?.ended !== undefined) return refuse([withoutHttp(sessionEnded(session.ended))]);
        // graphql-ws lists this operation in ctx.subscriptions already, so the count includes it.
        const refused = await options.rateLimits.checkOperation(ctx.extra.connection!, Object.keys(ctx.subscriptions).length);
        if (refused) return refuse([refused]);
        // A persisted-query id becomes its listed text before any check (edge/trusted-documents.ts).
        const query = options.resolveQuery ? options.resolveQuery(payload) : payload.query;
        if (query instanceof GraphQLError) return refuse([query]);
        const prepared = await prepare(options.tracker.current(), options, {
          connection: ctx.extra.connection!,
          query,
          operationName: payload.operationName,
          variables: payload.variables,
          headers: ctx.extra.request.headers,
        });
        if (Array.isArray(prepared)) return refuse(prepared);
        const document = (prepared as ExecutionArgs).document;
        session?.started(id, document, payload.operationName ?? undefined);
        const operation = getOperationAST(document, payload.operationName);
        const operationType: WsOperationAnswer['operationType'] = operation?.operation ?? 'unknown';
        // Named as the client named it, or by the document's one operation.
        const pending: PendingAnswer = { operationName: payload.operationName ?? operation?.name?.value, operationType, validated: true, started };
        // A subscription is answered once it is admitted; a query or mutation by its result (onNext, onError).
        if (operationType === 'subscription') {
          answered({ operationName: pending.operationName, operationType, validated: true, codes: [], seconds: (performance.now() - started) / 1000 });
        }
        else pendingAnswers(ctx).set(id, pending);
        return prepared;
      },
      subscribe: (args) => {
        const { connection, state, query } = args.contextValue as OperationScope;
        return federatedSubscribe({
          state,
          shared,
          request: {
            query,
            document: args.document,
            operationName: args.operationName ?? undefined,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            context: connection.context,
            logger: logger.child({ requestId: connection.context.requestId }),
          },
          onStart: () => counts.subscriptions++,
          onEnd: () => counts.subscriptions--,
        });
      },
      execute: async (args): Promise<ExecutionResult> => {
        const { connection, query } = args.contextValue as OperationScope;
        const response = await apollo.executeOperation(
          { query, operationName: args.operationName ?? undefined, variables: (args.variableValues ?? {}) as Record<string, unknown> },
          // Admitted in onSubscribe already: Apollo Server must not check or count it again.
          { contextValue: { ...connection.context, admitted: true } },
        );
        if (response.body.kind === 'single') return response.body.singleResult as ExecutionResult;
        return { errors: [new GraphQLError('Incremental delivery (@defer) is not served over WebSocket; use HTTP.', { extensions: { code: 'BAD_REQUEST' } })] };
      },
      onNext: (ctx, id, _payload, args, result): FormattedExecutionResult => {
        ctx.extra.session?.delivered(id);
        settle(ctx, id, result.errors ?? []);
        // onNext also carries the single result of a query or mutation sent over the socket; only subscription events count.
        if (options.onEventDelivered && getOperationAST(args.document, args.operationName)?.operation === 'subscription') options.onEventDelivered();
        const { errors, ...rest } = result;
        return errors ? { ...rest, errors: format(errors) } : rest;
      },
      onError: (ctx, id, _payload, errors) => {
        settle(ctx, id, errors);
        return format(errors);
      },
      onComplete: (ctx, id) => {
        // A query the client cancelled before its answer: nothing was answered, nothing counted.
        pendingAnswers(ctx).delete(id);
        ctx.extra.session?.finished(id);
      },
    },
    wsServer,
    options.keepAliveMs,
  );

  return {
    handleUpgrade(req, socket, head) {
      options.rateLimits.admitUpgrade(req, socket, () =>
        wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req)),
      );
    },
    stats: () => ({ ...counts, ...shared.stats() }),
    close: async () => {
      await server.dispose();
      await pool.dispose();
    },
  };
}

/** The codes of errors as a client gets them; an uncoded one is ours (observability/outcome.ts). */
function codesOf(errors: readonly { extensions?: { code?: unknown } }[]): string[] {
  return errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR'));
}
