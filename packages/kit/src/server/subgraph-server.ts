/**
 * createSubgraphServer: the HTTP + graphql-ws handler every subgraph runs. It never listens by
 * itself (the service's index.ts or the embedded stack does), so tests can start it on port 0.
 *
 *   GET  /health                 liveness, open
 *   POST /graphql                GraphQL over HTTP, router-signed requests only
 *   ws   /graphql                graphql-ws (subscriptions), router-signed upgrades only
 *   ...                          extra routes the service adds (JWKS, webhooks)
 */
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';
import { formatErrorFor } from './format-error.ts';
import { requestInfo, type RequestInfo } from './request-info.ts';
import { checkRouterSignature, requireRouterSignature, type RawBodyRequest } from './router-only.ts';

export interface SubgraphServerOptions<C extends BaseContext> {
  name: string;
  schema: GraphQLSchema;
  logger: Logger;
  production: boolean;
  routerSigningSecret: string;
  /** Builds the per-request (or per-subscription) context; throw a GraphQLError to refuse. */
  createContext: (info: RequestInfo) => Promise<C>;
  /** Extra routes mounted before /graphql (e.g. /.well-known/jwks.json, /webhooks/payments). */
  routes?: (app: Express) => void;
  /** Called by /health; throw when the service cannot serve (e.g. its database is gone). */
  healthCheck?: () => Promise<void>;
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
  /** Starts Apollo and mounts the handlers; call before httpServer.listen. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';
const MAX_BODY = '1mb';

export function createSubgraphServer<C extends BaseContext>(options: SubgraphServerOptions<C>): SubgraphServer {
  const { logger, production, routerSigningSecret } = options;
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);

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
  httpServer.on('upgrade', (req, socket: Duplex, head) => {
    const path = (req.url ?? '').split('?')[0];
    const check = path === GRAPHQL_PATH ? checkRouterSignature(routerSigningSecret, req, '') : { ok: false as const, reason: 'not found' };
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
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });

  return {
    name: options.name,
    httpServer,
    apollo,
    liveSubscriptions: () => ({ sockets, subscriptions: operations.size }),
    async start() {
      await apollo.start();
      app.get('/health', async (_req, res) => {
        try {
          await options.healthCheck?.();
          res.json({ status: 'ok', service: options.name });
        } catch (e) {
          logger.error({ err: e }, 'health check failed');
          res.status(503).json({ status: 'unavailable', service: options.name });
        }
      });
      options.routes?.(app);
      app.use(
        GRAPHQL_PATH,
        express.json({
          limit: MAX_BODY,
          verify: (req, _res, buf) => {
            (req as RawBodyRequest).rawBody = buf;
          },
        }),
        requireRouterSignature(routerSigningSecret),
        expressMiddleware(apollo, {
          context: async ({ req }) => options.createContext(requestInfo(req)),
        }),
      );
    },
    async stop() {
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
