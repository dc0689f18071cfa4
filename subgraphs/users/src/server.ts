/**
 * createServer(deps): the users subgraph as an HTTP + graphql-ws handler. Adds the JWKS endpoint
 * other services verify access tokens with.
 */
import type { Logger } from '@campus/kit/core';
import { localTokenVerifier, type SessionRevocations } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import { createSubgraphServer, type SubgraphServer } from '@campus/kit/subgraph';
import type { AccountDeps } from './accounts.ts';
import { PAYMENTS_MAY_ASK } from './callers.ts';
import type { UsersConfig } from './config.ts';
import { contextFactory } from './context.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { PasswordVerifier } from './passwords.ts';
import { createSchema } from './schema.ts';
import { sessionEvents } from './session-events.ts';
import type { SigningKeys } from './signing-keys.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface UsersDeps {
  config: UsersConfig;
  prisma: PrismaClient;
  keys: SigningKeys;
  logger: Logger;
  /** Carries session events to subscribers on every instance (Redis when REDIS_URL is set). */
  pubsub: PubSub;
  /** Checks (and counts) passwords for logIn and changePassword. */
  passwords: PasswordVerifier;
  /** Where ended sessions are recorded, and checked by every token verifier (Redis when REDIS_URL is set). */
  revocations: SessionRevocations;
}

export function createServer({ config, prisma, keys, logger, pubsub, passwords, revocations }: UsersDeps): SubgraphServer {
  const accounts: AccountDeps = {
    prisma,
    sessions: { keys, accessTokenTtlSeconds: config.accessTokenTtlSeconds, refreshTokenTtlDays: config.refreshTokenTtlDays },
    throttle: config.throttle,
    passwords,
    events: sessionEvents(pubsub, logger),
    revocations,
  };
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
    createContext: contextFactory({ accounts, verifyToken, logger, pubsub }),
    routes: (app) => {
      // Public by design: verifiers everywhere fetch it; it holds public keys only.
      app.get(JWKS_PATH, (_req, res) => {
        res.set('Cache-Control', 'public, max-age=300').json(keys.jwks);
      });
    },
    healthCheck: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
  });
}
