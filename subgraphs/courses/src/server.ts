/** createServer(deps): the courses subgraph as an HTTP + graphql-ws handler; never listens by itself. */
import type { Logger } from '@campus/kit/core';
import { remoteTokenVerifier, type SessionRevocations, type TokenVerifier } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import { createSubgraphServer, type SubgraphServer } from '@campus/kit/subgraph';
import { PAYMENTS_MAY_ASK } from './callers.ts';
import type { CoursesConfig } from './config.ts';
import { contextFactory } from './context.ts';
import type { CoursesDomain } from './domain.ts';
import { createSchema } from './schema.ts';

export interface CoursesServerDeps {
  config: CoursesConfig;
  domain: CoursesDomain;
  logger: Logger;
  /** Where subscriptions listen; the same pub/sub the domain publishes on. */
  pubsub: PubSub;
  /** Ended sessions, checked on every token verification (docs/identity/sessions.md). */
  revocations: SessionRevocations;
  /** Defaults to the users service's JWKS (config.jwksUrl), with `revocations`. */
  verifyToken?: TokenVerifier;
}

export function createServer({ config, domain, logger, pubsub, revocations, verifyToken }: CoursesServerDeps): SubgraphServer {
  const verify = verifyToken ?? remoteTokenVerifier(config.jwksUrl, { revocations, maxLifetimeSeconds: config.sessions.maxLifetimeSeconds });
  return createSubgraphServer({
    name: 'courses',
    schema: createSchema(),
    logger,
    production: config.production,
    identity: {
      routerJwks: config.routerJwks,
      redisUrl: config.redisUrl,
      callers: { payments: { jwks: config.paymentsJwks, may: PAYMENTS_MAY_ASK } },
    },
    createContext: contextFactory({ domain, verifyToken: verify, logger, pubsub }),
    // /ready probes the database through the client requests use (docs/readiness.md).
    database: domain.prisma,
  });
}
