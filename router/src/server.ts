/**
 * createRouter(config): the HTTP server, Apollo Server over the gateway, the Sandbox landing page
 * and health. It never listens by itself; index.ts (or a test) does, then calls start().
 *
 *   GET  /health            200 once a supergraph is loaded, 503 before
 *   GET  / and /graphql     Apollo Sandbox for browsers
 *   POST /graphql (and /)   GraphQL over HTTP
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
import { createGateway } from './gateway.ts';

export interface Router {
  httpServer: Server;
  gateway: ApolloGateway;
  /** Resolves once the first supergraph is loaded and GraphQL is served. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RouterDeps {
  logger?: Logger;
  verifyToken?: TokenVerifier;
}

const GRAPHQL_PATHS = ['/', '/graphql'];

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

  const corsMiddleware = cors({
    origin: config.corsOrigins === '*' ? true : config.corsOrigins,
    credentials: false,
    maxAge: 600,
  });

  return {
    httpServer,
    gateway,
    async start() {
      await apollo.start();
      // Exact paths: `app.use('/')` would also answer GraphQL on every other path.
      app.all(
        GRAPHQL_PATHS,
        corsMiddleware,
        express.json({ limit: '1mb' }),
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
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
