/**
 * createRouter(config): the HTTP server, Apollo Server over the gateway, the Sandbox landing page
 * and health. It never listens by itself; index.ts (or a test) does, then calls start().
 *
 *   GET  /health            liveness: 200 while the process answers (docs/readiness.md)
 *   GET  /ready             readiness: supergraph, planner, subgraphs, Redis; 503 naming what is down
 *   GET  /metrics           Prometheus text (observability/metrics.ts); on ROUTER_METRICS_PORT instead when set
 *   GET  /.well-known/service-jwks.json   the public keys subgraphs verify the router's signatures with
 *   GET  / and /graphql     Apollo Sandbox for browsers
 *   POST /graphql (and /)   GraphQL over HTTP
 *   ws   /graphql (and /)   graphql-ws: federated subscriptions, queries and mutations (subscriptions/)
 */
import type { Server } from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { createExpressServer, createLogger, requestInfo, type Logger } from '@campus/kit/core';
import { graphqlServerSpan, graphqlSpanPlugin } from '@campus/kit/core';
import { createRequestSigner, createSessionRevocations, createSessionWatch, JWKS_CACHE_MAX_AGE_MS, SERVICE_JWKS_PATH, remoteTokenVerifier, type SessionRevocations, type TokenVerifier } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import cors from 'cors';
import express, { type Request } from 'express';
import { authenticate } from './auth.ts';
import type { RouterConfig } from './config.ts';
import type { RouterContext } from './context.ts';
import { admissionPlugin, sourceAdmission, type AdmissionChecks } from './edge/admission.ts';
import { sessionAtSource } from './edge/session-at-source.ts';
import { COST_DEBUG_HEADER, costReportPlugin, demandControl } from './edge/cost.ts';
import { routerFormatError } from './edge/error-codes.ts';
import { jsonErrorHandler, requireJsonBody } from './edge/http-errors.ts';
import { operationLimits } from './edge/limits.ts';
import { createRateLimits } from './edge/rate-limits.ts';
import { retryAfterPlugin } from './edge/retry-after.ts';
import { loadTrustedDocuments } from './edge/trusted-documents.ts';
import { createWsRateLimits } from './edge/ws-rate-limits.ts';
import { createGateway, dataSourceFactory } from './gateway.ts';
import { operationExecutor, planningGateway } from './planning/executor.ts';
import { fastPath } from './fast-path/fast-path.ts';
import { graphqlRoute } from './graphql-route.ts';
import { preparedOperations } from './fast-path/prepared-operations.ts';
import { trackSupergraph } from './planning/supergraph-state.ts';
import { warmPlans } from './planning/warm-plans.ts';
import { routerReadiness } from './readiness.ts';
import { observeHttpRequests } from './observability/http-requests.ts';
import { metricsEndpoint, type ClusterMetricsSource } from './observability/metrics-endpoint.ts';
import { createRouterMetrics } from './observability/metrics.ts';
import { outcomeOf } from './observability/outcome.ts';
import type { MetricsRegistry } from '@campus/kit/core';
import { createSubscriptionServer, type SubscriptionStats } from './subscriptions/ws-server.ts';
import { createResponseCache } from './response-cache/response-cache.ts';
import type { CatalogGeneration } from '@campus/kit/events';

export interface Router {
  httpServer: Server;
  gateway: ApolloGateway;
  /** What the WebSocket side holds open (clients, subscriptions, upstream sockets). */
  subscriptionStats(): SubscriptionStats;
  /** The router's Prometheus registry (observability/metrics.ts), served at GET /metrics. */
  metrics: MetricsRegistry;
  /** The port of /metrics once started, when ROUTER_METRICS_PORT gives it one; undefined when it is on the router's own. */
  metricsPort(): number | undefined;
  /** Resolves once the first supergraph is loaded and GraphQL is served. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RouterDeps {
  logger?: Logger;
  verifyToken?: TokenVerifier;
  /**
   * Ended sessions, shared with the users service that records them (the embedded stack passes
   * its one store); absent, the router opens its own from config.sessions (Redis or in memory).
   */
  revocations?: SessionRevocations;
  /**
   * The catalog generation the services of this process bump (the embedded stack); absent, the
   * response cache reads one in Redis with REDIS_URL, or stays off (response-cache/response-cache.ts).
   */
  catalogGeneration?: CatalogGeneration;
  /** Set in a worker process (cluster/worker.ts): /metrics answers every worker's series, summed by the primary. */
  clusterMetrics?: ClusterMetricsSource;
}

const GRAPHQL_PATHS = ['/', '/graphql'];
const MAX_BODY_BYTES = 1024 * 1024;

export function createRouter(config: RouterConfig, deps: RouterDeps = {}): Router {
  const logger = deps.logger ?? createLogger('router', config.logLevel);
  const ownRevocations = deps.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = deps.revocations ?? ownRevocations!;
  const verifyToken = deps.verifyToken ?? remoteTokenVerifier(config.jwksUrl, { revocations, maxLifetimeSeconds: config.sessions.maxLifetimeSeconds });
  // Open WebSockets end when their session does (subscriptions/ws-server.ts).
  const sessionWatch = createSessionWatch(revocations, { onError: (err) => logger.warn({ err }, 'could not re-check the sessions of open WebSockets') });
  const app = express();
  app.disable('x-powered-by');
  // No ETag: a GraphQL answer is never revalidated (every answer is Cache-Control: no-store,
  // response-cache/response-cache.ts), and Express would hash every body to make one.
  app.set('etag', false);
  // TRUST_PROXY (edge/trust-proxy.ts); unset, the socket's peer is the client whatever X-Forwarded-For says.
  app.set('trust proxy', config.trustProxy);
  // The GraphQL paths skip Express's router once served (graphql-route.ts); the rest is the app's.
  const graphql = graphqlRoute(app);
  const httpServer = createExpressServer(app, graphql.listener);
  // One factory for HTTP and WebSocket: it holds the subgraphs' circuit breakers (subgraph-resilience.ts).
  // The router's own identity: one signer for HTTP fetches and WebSocket upgrades to subgraphs.
  const signer = createRequestSigner(ROUTER_ISSUER, config.signingKeys);
  // Prometheus series and the access log (observability/): subgraph fetches are counted by the factory's guards.
  const metrics = createRouterMetrics(config.metrics);
  const buildService = dataSourceFactory(config, logger, signer, metrics.subgraphFetches);
  const gateway = createGateway(config, logger, buildService);
  let ready = false;
  gateway.onSchemaLoadOrUpdate(() => {
    ready = true;
  });


  // Plans are built on planner threads with a time budget, never on this one (planning/).
  const tracker = trackSupergraph(gateway, {
    buildService,
    planner: { timeoutMs: config.planner.timeoutMs, workers: config.planner.workers, idleExitMs: config.planner.idleExitMs, logger },
    defaultListSize: config.demandControl.defaultListSize,
    planExecutor: config.planExecutor,
  });

  // Public by design: subgraphs verify the router's requests with these (ROUTER_JWKS); public keys
  // only, every configured key, so a new one is known before the router signs with it.
  app.get(SERVICE_JWKS_PATH, (_req, res) => {
    res.set('Cache-Control', `public, max-age=${JWKS_CACHE_MAX_AGE_MS / 1000}`).json(signer.jwks);
  });

  // Ready only once a planner thread can plan: before that every new operation would wait or
  // time out (the thread loads the planner code and builds the supergraph first, seconds on a cold
  // start). Only the first start counts: a thread replaced later must not make /ready flap.
  // Warm too: the operations known in advance are planned first (planning/warm-plans.ts).
  let plannerStarted = false;
  const plannerWarm = tracker
    .plannerReady()
    .then(() => warmPlans(tracker, config.planner.warmup, config.trustedDocuments.manifestPath, logger))
    .catch((err: unknown) => logger.warn({ err }, 'could not warm the query plan cache'))
    .finally(() => (plannerStarted = true));

  const readiness = routerReadiness({
    tracker,
    supergraphLoaded: () => ready,
    plannerStarted: () => plannerStarted,
    redisUrl: (config.rateLimits.enabled ? config.rateLimits.redis.url : undefined) ?? config.sessions.redisUrl,
  });
  app.get('/health', readiness.health);
  app.get('/ready', readiness.ready);
  // GET /metrics here, or on ROUTER_METRICS_PORT only (observability/metrics-endpoint.ts).
  const metricsServer = metricsEndpoint(app, metrics.registry, config.metrics.port, deps.clusterMetrics);
  // Listening starts before start() finishes (so /health answers during a long start): until then
  // GraphQL answers 503 with a GraphQL error a client retries on, not express's 404 page.
  let serving = false;
  app.all(GRAPHQL_PATHS, (req, res, next) => {
    if (serving) return next();
    res
      .status(503)
      .set('Retry-After', '1')
      .json({ errors: [{ message: 'The router is starting; retry in a moment.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });

  // The edge (docs/edge.md): limits while parsing and validating, admission checks around them.
  const limits = operationLimits(config.limits);
  // Rate limits (edge/rate-limits.ts): per request first, so a flood is refused before any parsing.
  const rateLimits = createRateLimits(config.rateLimits, logger);
  // Trusted documents (edge/trusted-documents.ts): once the request is counted, before any lexing.
  const trusted = loadTrustedDocuments(config.trustedDocuments, logger);
  // Codes restored, suggestions hidden in production, client errors logged at info (edge/error-codes.ts).
  // Every error sent also notes its code for the request's metrics and access log (observability/http-requests.ts).
  const requests = observeHttpRequests(metrics, logger);
  const formatError = requests.formatError(routerFormatError(config.production, logger));
  const admission: AdmissionChecks = {
    source: [rateLimits.checkRequest, trusted.check, (source) => limits.checkSource(source)],
    operation: [
      demandControl(() => tracker.current()?.cost, config.demandControl.maxCost),
      rateLimits.checkStrictFields,
      // Last: the one check that costs a round trip (edge/session-at-source.ts).
      sessionAtSource({ usersUrl: () => tracker.current()?.urls.get('users'), signer }),
    ],
  };

  // Anonymous public answers, keyed on the catalog generation (docs/response-cache.md).
  const responseCache = createResponseCache(config.responseCache, { logger, generation: deps.catalogGeneration, onLookup: metrics.responseCacheLookup });

  const apollo = new ApolloServer<RouterContext>({
    gateway: planningGateway(gateway, tracker, { maxResponseBytes: config.limits.maxResponseBytes }),
    csrfPrevention: true,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    introspection: !config.production || config.sandbox,
    includeStacktraceInErrorResponses: !config.production,
    formatError,
    hideSchemaDetailsFromClientErrors: config.production,
    // Listed operations answer their ids, beside ordinary APQ; Apollo Server's default when off.
    persistedQueries: trusted.persistedQueries((): ApolloServer['cache'] => apollo.cache),
    plugins: [
      requests.plugin,
      admissionPlugin(admission),
      costReportPlugin(() => tracker.current()?.cost),
      // A subgraph's RATE_LIMITED (login throttling) gets Retry-After like the router's own (edge/retry-after.ts).
      retryAfterPlugin(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // The operation, its error codes and outcome on the request's span (docs/observability.md).
      graphqlSpanPlugin(),
      ...responseCache.plugins,
      config.sandbox
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
    ],
  });

  const subscriptions = createSubscriptionServer({
    tracker,
    apollo,
    verifyToken,
    sessionWatch,
    trustProxy: app.get('trust proxy fn'),
    routerSigner: signer,
    keepAliveMs: config.subscriptions.keepAliveMs,
    upstreamRetryAttempts: config.subscriptions.upstreamRetryAttempts,
    maxPayloadBytes: MAX_BODY_BYTES,
    production: config.production,
    logger,
    formatError,
    resolveQuery: trusted.resolveQuery,
    limits,
    admissionChecks: admission,
    rateLimits: createWsRateLimits(rateLimits, app.get('trust proxy fn'), metrics.upgradeRefused),
    onEventDelivered: metrics.eventDelivered,
    onOperationAnswered: (answer) => metrics.request({ transport: 'ws', ...answer, ...outcomeOf(200, answer.codes) }),
  });
  metrics.watch({ tracker, subscriptionStats: () => subscriptions.stats() });
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

  // Built once per request, by the edge's source stage or by Apollo Server, whichever asks first:
  // the token is verified once, and a bad one is answered by Apollo Server (401).
  const contexts = new WeakMap<Request, Promise<RouterContext>>();
  const contextOf = (req: Request): Promise<RouterContext> => {
    let context = contexts.get(req);
    if (!context) {
      const info = requestInfo(req);
      context = authenticate(verifyToken, info.authorization).then((viewer) => ({
        viewer,
        authorization: info.authorization,
        requestId: info.requestId,
        clientIp: req.ip,
      }));
      // The source stage moves on without a context when the token is bad; the rejection is
      // handled where Apollo Server awaits the same promise.
      context.catch(() => {});
      contexts.set(req, context);
    }
    return context;
  };

  return {
    httpServer,
    gateway,
    subscriptionStats: () => subscriptions.stats(),
    metrics: metrics.registry,
    metricsPort: () => metricsServer.port(),
    async start() {
      await metricsServer.start();
      await rateLimits.ready();
      // Revocation notices are heard before the first WebSocket opens. Without them (Redis down),
      // the router still serves: open WebSockets learn of ended sessions from the periodic re-check,
      // and tokens are refused (503) while the store cannot be asked.
      await revocations.ready().catch((err: unknown) =>
        logger.warn({ err }, 'session revocation notices unavailable; open WebSockets rely on the periodic re-check'),
      );
      await apollo.start();
      // Bounded: a planner that cannot start is reported by /ready rather than hanging the start.
      await Promise.race([plannerWarm, new Promise((r) => setTimeout(r, 60_000).unref())]);
      // Errors on the way (bad JSON, too large, wrong type) answered in JSON (edge/http-errors.ts).
      const httpErrors = jsonErrorHandler(logger);
      // Exact paths (graphql-route.ts): `app.use('/')` would also answer GraphQL on every other path.
      graphql.serve(
        [
          requests.begin,
          corsMiddleware,
          requireJsonBody,
          express.json({ limit: MAX_BODY_BYTES }),
          // The request's scope: its id in every log line of the request, and its observation.
          requests.scope(contextOf),
          // Its span (continuing a traceparent).
          graphqlServerSpan('router'),
          sourceAdmission(admission, contextOf, formatError),
          // The common POST without Apollo Server's pipeline; anything else goes on to it (fast-path/).
          ...(config.fastPath
            ? [
                fastPath({
                  tracker,
                  prepared: preparedOperations({ parseOptions: limits.parseOptions, validationRules: limits.validationRules }),
                  execute: operationExecutor(tracker),
                  contextOf,
                  admission,
                  formatError,
                  includeStacktraceInErrorResponses: !config.production,
                  maxResponseBytes: config.limits.maxResponseBytes,
                  operationResolved: requests.operationResolved,
                  onAnswered: metrics.fastPathAnswered,
                  // The response cache's plugins read and store anonymous answers; the cost report's adds to the answer.
                  mayTake: (req, context) =>
                    !req.headers[COST_DEBUG_HEADER] && (responseCache.mode === 'off' || !!context.authorization || !!context.viewer),
                  logger,
                }),
              ]
            : []),
          expressMiddleware(apollo, { context: ({ req }) => contextOf(req) }),
        ],
        httpErrors,
      );
      // After the app's routes too, so nothing the router answers is Express's HTML error page.
      app.use(httpErrors);
      serving = true;
    },
    async stop() {
      // /ready answers 503 `draining` from here on, so a load balancer sends no new traffic.
      readiness.drain();
      // Sockets first: an upgraded connection is no longer the HTTP server's to drain.
      await subscriptions.close();
      await apollo.stop();
      await tracker.stop();
      await rateLimits.close();
      await responseCache.close();
      sessionWatch.close();
      await ownRevocations?.close();
      await readiness.close();
      await metricsServer.close();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
