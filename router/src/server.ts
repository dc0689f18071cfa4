/**
 * createRouter(config): the HTTP server, Apollo Server over the gateway, the Sandbox landing page
 * and health. It never listens by itself; index.ts (or a test) does, then calls start().
 *
 *   GET  /health            200 once a supergraph is loaded, 503 before
 *   GET  / and /graphql     Apollo Sandbox for browsers
 *   POST /graphql (and /)   GraphQL over HTTP
 *   ws   /graphql (and /)   graphql-ws: federated subscriptions, queries and mutations (subscriptions/)
 */
import { createServer, type Server } from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { createLogger, remoteTokenVerifier, requestInfo, type Logger, type TokenVerifier } from '@campus/kit';
import { formatErrorFor } from '@campus/kit/server/format-error';
import cors from 'cors';
import express from 'express';
import { authenticate } from './auth.ts';
import type { RouterConfig } from './config.ts';
import type { RouterContext } from './context.ts';
import { createGateway, dataSourceFactory } from './gateway.ts';
import { trackSupergraph } from './subscriptions/supergraph-state.ts';
import { createSubscriptionServer, type SubscriptionStats } from './subscriptions/ws-server.ts';

export interface Router {
  httpServer: Server;
  gateway: ApolloGateway;
  /** What the WebSocket side holds open (clients, subscriptions, upstream sockets). */
  subscriptionStats(): SubscriptionStats;
  /** Resolves once the first supergraph is loaded and GraphQL is served. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RouterDeps {
  logger?: Logger;
  verifyToken?: TokenVerifier;
}

const GRAPHQL_PATHS = ['/', '/graphql'];
const MAX_BODY_BYTES = 1024 * 1024;

export function createRouter(config: RouterConfig, deps: RouterDeps = {}): Router {
  const logger = deps.logger ?? createLogger('router', config.logLevel);
  const verifyToken = deps.verifyToken ?? remoteTokenVerifier(config.jwksUrl);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const httpServer = createServer(app);
  const gateway = createGateway(config, logger);
  let ready = false;
  gateway.onSchemaLoadOrUpdate(() => {
    ready = true;
  });

  app.get('/health', (_req, res) => {
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'waiting for a supergraph' });
  });

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    csrfPrevention: true,
    introspection: !config.production || config.sandbox,
    includeStacktraceInErrorResponses: !config.production,
    formatError: formatErrorFor(config.production, logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      config.sandbox
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
    ],
  });

  const subscriptions = createSubscriptionServer({
    tracker: trackSupergraph(gateway, dataSourceFactory(config)),
    apollo,
    verifyToken,
    trustProxy: app.get('trust proxy fn'),
    routerSigningSecret: config.routerSigningSecret,
    keepAliveMs: config.subscriptions.keepAliveMs,
    upstreamRetryAttempts: config.subscriptions.upstreamRetryAttempts,
    maxPayloadBytes: MAX_BODY_BYTES,
    production: config.production,
    logger,
    formatError: formatErrorFor(config.production, logger),
  });
  httpServer.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!GRAPHQL_PATHS.includes(path)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    subscriptions.handleUpgrade(req, socket, head);
  });

  const corsMiddleware = cors({
    origin: config.corsOrigins === '*' ? true : config.corsOrigins,
    credentials: false,
    maxAge: 600,
  });

  return {
    httpServer,
    gateway,
    subscriptionStats: () => subscriptions.stats(),
    async start() {
      await apollo.start();
      // Exact paths: `app.use('/')` would also answer GraphQL on every other path.
      app.all(
        GRAPHQL_PATHS,
        corsMiddleware,
        express.json({ limit: MAX_BODY_BYTES }),
        expressMiddleware(apollo, {
          context: async ({ req }): Promise<RouterContext> => {
            const info = requestInfo(req);
            return {
              viewer: await authenticate(verifyToken, info.authorization),
              authorization: info.authorization,
              requestId: info.requestId,
              clientIp: req.ip,
            };
          },
        }),
      );
    },
    async stop() {
      // Sockets first: an upgraded connection is no longer the HTTP server's to drain.
      await subscriptions.close();
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
