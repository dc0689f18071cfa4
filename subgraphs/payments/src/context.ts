/** The per-request context of the payments service: who is asking, fresh loaders, and the domain's dependencies. */
import type { Logger, RequestInfo } from '@campus/kit/core';
import { viewerFromAuthorization, type TokenVerifier, type Viewer } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import type { PaymentsDomain } from './domain.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  viewer: Viewer | null;
  /** The viewer's "Bearer ..." header, forwarded when payments asks the courses or users service. */
  authorization: string | undefined;
  requestId: string;
  logger: Logger;
  prisma: PrismaClient;
  loaders: Loaders;
  pubsub: PubSub;
  domain: PaymentsDomain;
}

export interface ContextDeps {
  prisma: PrismaClient;
  pubsub: PubSub;
  domain: PaymentsDomain;
  verifyToken: TokenVerifier;
  logger: Logger;
}

export function contextFactory(deps: ContextDeps) {
  return async (info: RequestInfo): Promise<Context> => ({
    viewer: await viewerFromAuthorization(deps.verifyToken, info.authorization),
    authorization: info.authorization,
    requestId: info.requestId,
    logger: deps.logger.child({ requestId: info.requestId }),
    prisma: deps.prisma,
    loaders: createLoaders(deps.prisma),
    pubsub: deps.pubsub,
    domain: deps.domain,
  });
}
