/**
 * createServer(deps): the payments subgraph as an HTTP + graphql-ws handler, plus the provider's
 * webhook (POST /webhooks/payments), which answers the provider, not the router, and the public
 * keys payments signs its own calls to courses and users with (GET /.well-known/service-jwks.json).
 */
import type { Logger } from '@campus/kit/core';
import { remoteTokenVerifier, JWKS_CACHE_MAX_AGE_MS, SERVICE_JWKS_PATH, type RequestSigner, type SessionRevocations, type TokenVerifier } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import { createSubgraphServer, type SubgraphServer } from '@campus/kit/subgraph';
import type { PaymentsConfig } from './config.ts';
import { contextFactory } from './context.ts';
import type { PaymentsDomain } from './domain.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createSchema } from './schema.ts';
import type { Inbox } from './webhooks/inbox.ts';
import { mountWebhookRoute } from './webhooks/route.ts';

export interface PaymentsServerDeps {
  config: PaymentsConfig;
  prisma: PrismaClient;
  pubsub: PubSub;
  domain: PaymentsDomain;
  inbox: Inbox;
  /** Payments' own identity; its public keys are served here. */
  signer: RequestSigner;
  logger: Logger;
  /** Ended sessions, checked on every token verification (docs/identity/sessions.md). */
  revocations: SessionRevocations;
  /** Defaults to the users service's JWKS (config.jwksUrl), with `revocations`. */
  verifyToken?: TokenVerifier;
}

export function createServer({ config, prisma, pubsub, domain, inbox, signer, logger, revocations, verifyToken }: PaymentsServerDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'payments',
    schema: createSchema(),
    logger,
    production: config.production,
    identity: { routerJwks: config.routerJwks, redisUrl: config.redisUrl },
    createContext: contextFactory({
      prisma,
      pubsub,
      domain,
      verifyToken:
        verifyToken ??
        remoteTokenVerifier(config.jwksUrl, { revocations, maxLifetimeSeconds: config.sessions.maxLifetimeSeconds }),
      logger,
    }),
    routes: (app) => {
      mountWebhookRoute(app, { secret: config.webhookSecret, inbox, logger });
      // Public by design: courses and users verify payments' calls with these; public keys only.
      app.get(SERVICE_JWKS_PATH, (_req, res) => {
        res.set('Cache-Control', `public, max-age=${JWKS_CACHE_MAX_AGE_MS / 1000}`).json(signer.jwks);
      });
    },
    // /ready probes the database through the client requests use (docs/readiness.md).
    database: prisma,
  });
}
