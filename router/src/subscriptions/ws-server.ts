/**
 * graphql-ws on the router's own port and path (ws://host:4000/graphql): what the graphql-ws
 * client, Apollo Client's GraphQLWsLink and Apollo Sandbox connect to.
 *
 *   connection_init  the token in its payload is verified as for HTTP; a bad one closes the
 *                    socket with 4403 (Forbidden); the socket closes again with 4403 when the
 *                    token expires, and graphql-ws clients reconnect with a fresh one
 *   subscribe        validated against the supergraph's API schema; subscriptions run through
 *                    the federated executor, queries and mutations through Apollo Server (so a
 *                    WebSocket-only client gets exactly what HTTP would give it)
 *   keep-alive       ws-level pings every `keepAliveMs`; a peer that misses a pong is dropped
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import type { Logger, TokenVerifier } from '@campus/kit';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { RouterContext } from '../context.ts';
import type { TrustProxy } from './client-address.ts';
import { openConnection, type ClientConnection } from './connection.ts';
import { federatedSubscribe } from './federated-subscription.ts';
import type { SupergraphState, SupergraphTracker } from './supergraph-state.ts';

export interface SubscriptionServerOptions {
  tracker: SupergraphTracker;
  apollo: ApolloServer<RouterContext>;
  verifyToken: TokenVerifier;
  trustProxy: TrustProxy;
  routerSigningSecret: string;
  keepAliveMs: number;
  upstreamRetryAttempts: number;
  /** Largest message accepted from a client, as for HTTP bodies. */
  maxPayloadBytes: number;
  production: boolean;
  logger: Logger;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

export interface SubscriptionStats {
  /** Client graphql-ws connections that passed connection_init. */
  connections: number;
  /** Federated subscriptions running. */
  subscriptions: number;
  /** Open sockets from the router to subgraphs. */
  upstreamSockets: number;
}

export interface SubscriptionServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): SubscriptionStats;
  close(): Promise<void>;
}

type Extra = {
  connection: ClientConnection;
  expiry: NodeJS.Timeout;
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

function prepare(state: SupergraphState | undefined, connection: ClientConnection, query: string, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): ExecutionArgs | readonly GraphQLError[] {
  if (!state) return [new GraphQLError('The router has not loaded a supergraph yet; retry shortly.', { extensions: { code: 'SERVICE_UNAVAILABLE' } })];
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (e) {
    return coded([e as GraphQLError], 'GRAPHQL_PARSE_FAILED');
  }
  const invalid = validate(state.apiSchema, document);
  if (invalid.length) return coded(invalid, 'GRAPHQL_VALIDATION_FAILED');
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) {
    return [new GraphQLError('Name the operation to run (operationName) or send exactly one.', { extensions: { code: 'BAD_REQUEST' } })];
  }
  const coerced = getVariableValues(state.apiSchema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return coded(coerced.errors, 'BAD_USER_INPUT');
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

  const format = (errors: readonly (GraphQLError | GraphQLFormattedError)[]) =>
    // Results from Apollo Server (queries over the socket) arrive formatted already.
    errors.map((e) => (e instanceof GraphQLError ? formatError(e.toJSON(), e) : e));

  const server = useServer<Record<string, unknown>, Extra>(
    {
      isProd: options.production,
      onConnect: async (ctx) => {
        try {
          const connection = await openConnection(options.verifyToken, options.trustProxy, ctx.connectionParams, ctx.extra.request, {
            secret: options.routerSigningSecret,
            retryAttempts: options.upstreamRetryAttempts,
            onSocketOpened: () => counts.upstreamSockets++,
            onSocketClosed: () => counts.upstreamSockets--,
          });
          ctx.extra.connection = connection;
          if (connection.expiresAt) {
            const ms = Math.min(Math.max(connection.expiresAt - Date.now(), 0), 2 ** 31 - 1);
            ctx.extra.expiry = setTimeout(() => ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden: the access token expired'), ms);
            ctx.extra.expiry.unref();
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
        const connection = ctx.extra.connection;
        if (!connection) return;
        counts.connections--;
        // Subscriptions were completed just before (graphql-ws returns them first); this closes
        // whatever upstream socket is still opening or lingering.
        await connection.upstream.dispose();
      },
      onSubscribe: (ctx, _id, payload) =>
        prepare(options.tracker.current(), ctx.extra.connection!, payload.query, payload.operationName, payload.variables),
      subscribe: (args) => {
        const { connection, state, query } = args.contextValue as OperationScope;
        return federatedSubscribe({
          state,
          upstream: connection.upstream,
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
          { contextValue: connection.context },
        );
        if (response.body.kind === 'single') return response.body.singleResult as ExecutionResult;
        return { errors: [new GraphQLError('Incremental delivery (@defer) is not served over WebSocket; use HTTP.', { extensions: { code: 'BAD_REQUEST' } })] };
      },
      onNext: (_ctx, _id, _payload, _args, result): FormattedExecutionResult => {
        const { errors, ...rest } = result;
        return errors ? { ...rest, errors: format(errors) } : rest;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wsServer,
    options.keepAliveMs,
  );

  return {
    handleUpgrade(req, socket, head) {
      wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
    },
    stats: () => ({ ...counts }),
    close: async () => {
      await server.dispose();
    },
  };
}
