/**
 * createServer(deps): the users subgraph as an HTTP + graphql-ws handler; never listens by itself.
 * Adds the JWKS endpoint other services verify access tokens with.
 */
import type { Logger } from '@campus/kit/core';
import { localTokenVerifier, type SessionRevocations } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import { createSubgraphServer, USERS_JWKS_PATH, type SubgraphServer } from '@campus/kit/subgraph';
import { PAYMENTS_MAY_ASK } from './callers.ts';
import type { UsersConfig } from './config.ts';
import { contextFactory } from './context.ts';
import type { UsersDomain } from './domain.ts';
import { createSchema } from './schema.ts';
import type { SigningKeys } from './signing-keys.ts';

export interface UsersServerDeps {
  config: UsersConfig;
  domain: UsersDomain;
  keys: SigningKeys;
  logger: Logger;
  /** Where subscriptions listen; the same pub/sub the domain publishes on. */
  pubsub: PubSub;
  /** Ended sessions, checked on every token verification (docs/identity/sessions.md). */
  revocations: SessionRevocations;
}

export function createServer({ config, domain, keys, logger, pubsub, revocations }: UsersServerDeps): SubgraphServer {
  // Users holds the keys: it verifies access tokens with them directly, not through its own JWKS.
  const verifyToken = localTokenVerifier(keys.jwks, { revocations, maxLifetimeSeconds: config.sessions.maxLifetimeSeconds });
  return createSubgraphServer({
    name: 'users',
    schema: createSchema(),
    logger,
    production: config.production,
    identity: {
      routerJwks: config.routerJwks,
      redisUrl: config.redisUrl,
      callers: { payments: { jwks: config.paymentsJwks, may: PAYMENTS_MAY_ASK } },
    },
    createContext: contextFactory({ domain, verifyToken, logger, pubsub }),
    routes: (app) => {
      // Public by design: verifiers everywhere fetch it; it holds public keys only.
      app.get(USERS_JWKS_PATH, (_req, res) => {
        res.set('Cache-Control', 'public, max-age=300').json(keys.jwks);
      });
    },
    // /ready probes the database through the client requests use (docs/readiness.md).
    database: domain.prisma,
  });
}
