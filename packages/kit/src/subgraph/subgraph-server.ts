/**
 * createSubgraphServer: the HTTP + graphql-ws handler every subgraph runs. It never listens by
 * itself (the service's index.ts or the embedded stack does), so tests can start it on port 0.
 *
 *   GET  /health                 liveness, open: touches no dependency (docs/readiness.md)
 *   GET  /ready                  readiness, open: database and Redis, 503 naming what is down
 *   GET  /metrics                Prometheus text format: the service's registry (core/metrics.ts);
 *                                on a port of its own instead with <SERVICE>_METRICS_PORT (metrics.ts)
 *   POST /graphql                GraphQL over HTTP: signed by the router, or by a service this one
 *                                trusts for what it may ask (signed-requests.ts)
 *   ws   /graphql                graphql-ws (subscriptions), router-signed upgrades only
 *   ...                          extra routes the service adds (JWKS, webhooks)
 */
import type { Server } from 'node:http';
import { createExpressServer } from '../core/express-server.ts';
import { createMetricsRegistry, metricsHandler, type MetricsRegistry } from '../core/metrics.ts';
import type { Duplex } from 'node:stream';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../core/logger.ts';
import { formatErrorFor } from '../core/format-error.ts';
import type { Readiness } from '../core/readiness.ts';
import { requestInfo, type RequestInfo } from '../core/request-info.ts';
import { graphqlServerSpan, graphqlSpanPlugin, requestIdScope } from '../core/graphql-tracing.ts';
import { graphqlMetricsPlugin } from './graphql-metrics.ts';
import { subgraphReadiness, type SqlClient } from './readiness-checks.ts';
import { createRequestGate, type RawBodyRequest, type SubgraphIdentity } from './signed-requests.ts';

export interface SubgraphServerOptions<C extends BaseContext> {
  name: string;
  schema: GraphQLSchema;
  logger: Logger;
  production: boolean;
  /** Whose signed requests it accepts (the router, and services it names with what they may ask). */
  identity: SubgraphIdentity;
  /** Builds the per-request (or per-subscription) context; throw a GraphQLError to refuse. */
  createContext: (info: RequestInfo) => Promise<C>;
  /** Extra routes mounted before /graphql (e.g. /.well-known/jwks.json, /webhooks/payments). */
  routes?: (app: Express) => void;
  /**
   * What /ready probes with SELECT 1: the client the service queries its database with (its Prisma
   * client). Redis is probed too when `identity.redisUrl` is set.
   */
  database: SqlClient;
}

export interface SubgraphServer {
  name: string;
  httpServer: Server;
  apollo: ApolloServer<BaseContext>;
  /**
   * What graphql-ws holds open right now. A subscription counts from when its event stream is
   * live (its resolver returned) until it completes, however it ends; tests and operators read
   * this to see that a closed client left nothing behind.
   */
  liveSubscriptions(): { sockets: number; subscriptions: number };
  /** /ready's checks; `drain()` turns /ready to 503 before the service starts closing (stop() does too). */
  readiness: Readiness;
  /** What GET /metrics serves; the service registers its own series here. */
  metrics: MetricsRegistry;
  /** Stops answering GET /metrics on this port: the registry is served on a port of its own (<SERVICE>_METRICS_PORT, metrics.ts). */
  withdrawMetrics(): void;
  /** Starts Apollo and mounts the handlers; call before httpServer.listen. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';
const MAX_BODY = '1mb';

export function createSubgraphServer<C extends BaseContext>(options: SubgraphServerOptions<C>): SubgraphServer {
  const { logger, production } = options;
  const gate = createRequestGate({ service: options.name, schema: options.schema, identity: options.identity, logger });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createExpressServer(app);
  const readiness = subgraphReadiness(options.name, { database: options.database, redisUrl: options.identity.redisUrl });
  // Alive from the moment it listens; ready (below) only once GraphQL is served.
  app.get('/health', readiness.health);
  const metrics = createMetricsRegistry(options.name);
  const serveMetricsHere = metricsHandler(metrics);
  let metricsHere = true;
  app.get('/metrics', (req, res, next) => (metricsHere ? serveMetricsHere(req, res, next) : next()));

  const wsServer = new WebSocketServer({ noServer: true });
  let sockets = 0;
  const operations = new Set<string>();
  const socketIds = new WeakMap<object, number>();
  let nextSocketId = 0;
  const operationKey = (ctx: object, id: string) => `${socketIds.get(ctx)}:${id}`;
  const wsCleanup = useServer(
    {
      schema: options.schema,
      onConnect: (ctx) => {
        socketIds.set(ctx, nextSocketId++);
        sockets += 1;
      },
      onClose: (ctx) => {
        if (socketIds.has(ctx)) sockets -= 1;
      },
      onOperation: (ctx, id) => {
        operations.add(operationKey(ctx, id));
      },
      onComplete: (ctx, id) => {
        operations.delete(operationKey(ctx, id));
      },
      // The upgrade request was checked for the router's signature below; its headers carry the
      // viewer's token, so a subscription's context is built exactly like a request's.
      context: (ctx) => options.createContext(requestInfo(ctx.extra.request)),
      onError: (_ctx, _id, _payload, errors) => {
        logger.warn({ errors: errors.map((e) => e.message) }, 'subscription error');
      },
    },
    wsServer,
  );
  httpServer.on('upgrade', async (req, socket: Duplex, head) => {
    const path = (req.url ?? '').split('?')[0];
    // The peer may go away while its signature is checked; unheard, that error would end the process.
    const dropped = () => {};
    socket.on('error', dropped);
    const check =
      path === GRAPHQL_PATH
        ? await gate.upgrade(req).catch((err: unknown) => {
            logger.error({ err }, 'could not check the signature of a WebSocket upgrade');
            return { ok: false as const, reason: 'signature not checked' };
          })
        : { ok: false as const, reason: 'not found' };
    socket.off('error', dropped);
    if (!check.ok) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
  });

  const apollo = new ApolloServer<BaseContext>({
    schema: options.schema,
    introspection: !production,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: !production,
    formatError: formatErrorFor(production, logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // No Apollo Studio here: building federated traces (ftv1) per request would be pure overhead.
      ApolloServerPluginInlineTraceDisabled(),
      // The operation and its error codes on the request's span (nothing while tracing is off).
      graphqlSpanPlugin(),
      // Requests by operation type and errors by code, the same in every subgraph (graphql-metrics.ts).
      graphqlMetricsPlugin(metrics),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });

  return {
    name: options.name,
    httpServer,
    apollo,
    liveSubscriptions: () => ({ sockets, subscriptions: operations.size }),
    readiness,
    metrics,
    withdrawMetrics: () => {
      metricsHere = false;
    },
    async start() {
      // Seen request ids are shared through Redis from the first request on, when it is configured.
      await gate.ready();
      await apollo.start();
      app.get('/ready', readiness.ready);
      options.routes?.(app);
      app.use(
        GRAPHQL_PATH,
        express.json({
          limit: MAX_BODY,
          verify: (req, _res, buf) => {
            (req as RawBodyRequest).rawBody = buf;
          },
        }),
        // The request id is in scope for the gate's refusals too; the span starts only once the
        // gate checked the signature, which covers the traceparent it continues.
        requestIdScope,
        gate.http,
        graphqlServerSpan(options.name),
        expressMiddleware(apollo, {
          context: async ({ req }) => options.createContext(requestInfo(req)),
        }),
      );
    },
    async stop() {
      // First: a load balancer stops sending new traffic while what is in flight finishes.
      readiness.drain();
      await apollo.stop();
      await gate.close();
      await readiness.close();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
