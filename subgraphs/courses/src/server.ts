/** createServer(deps): the courses subgraph as an HTTP + graphql-ws handler; never listens by itself. */
import { createSubgraphServer, remoteTokenVerifier, type Logger, type PubSub, type SubgraphServer, type TokenVerifier } from '@campus/kit';
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
  /** Defaults to the users service's JWKS (config.jwksUrl). */
  verifyToken?: TokenVerifier;
}

export function createServer({ config, domain, logger, pubsub, verifyToken }: CoursesServerDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'courses',
    schema: createSchema(),
    logger,
    production: config.production,
    routerSigningSecret: config.routerSigningSecret,
    createContext: contextFactory({ domain, verifyToken: verifyToken ?? remoteTokenVerifier(config.jwksUrl), logger, pubsub }),
    healthCheck: async () => {
      await domain.prisma.$queryRaw`SELECT 1`;
    },
  });
}
