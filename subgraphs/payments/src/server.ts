/**
 * createServer(deps): the payments subgraph as an HTTP + graphql-ws handler, plus the provider's
 * webhook (POST /webhooks/payments), which answers the provider, not the router.
 */
import { createSubgraphServer, remoteTokenVerifier, type Logger, type PubSub, type SubgraphServer, type TokenVerifier } from '@campus/kit';
import type { PaymentsConfig } from './config.ts';
import { contextFactory, type PaymentsDomain } from './context.ts';
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
  logger: Logger;
  /** Defaults to the users service's JWKS at USERS_URL. */
  verifyToken?: TokenVerifier;
}

export function createServer({ config, prisma, pubsub, domain, inbox, logger, verifyToken }: PaymentsServerDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'payments',
    schema: createSchema(),
    logger,
    production: config.production,
    routerSigningSecret: config.routerSigningSecret,
    createContext: contextFactory({
      prisma,
      pubsub,
      domain,
      verifyToken: verifyToken ?? remoteTokenVerifier(new URL('/.well-known/jwks.json', config.usersUrl).toString()),
      logger,
    }),
    routes: (app) => mountWebhookRoute(app, { secret: config.webhookSecret, inbox, logger }),
    healthCheck: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
  });
}
