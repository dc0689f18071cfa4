/** The per-request context of the courses service: who is asking, and fresh loaders. */
import type { Logger, RequestInfo } from '@campus/kit/core';
import { viewerFromAuthorization, type TokenVerifier, type Viewer } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import type { CoursesDomain } from './domain.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  viewer: Viewer | null;
  requestId: string;
  logger: Logger;
  prisma: PrismaClient;
  /** Replaced by renewLoaders after a write and per subscription event, never shared across requests. */
  loaders: Loaders;
  domain: CoursesDomain;
  /** Where subscriptions listen (the publishing side is `domain.live`). */
  pubsub: PubSub;
}

export interface ContextDeps {
  domain: CoursesDomain;
  verifyToken: TokenVerifier;
  logger: Logger;
  pubsub: PubSub;
}

export function contextFactory(deps: ContextDeps) {
  return async (info: RequestInfo): Promise<Context> => {
    const viewer = await viewerFromAuthorization(deps.verifyToken, info.authorization);
    return {
      viewer,
      requestId: info.requestId,
      logger: deps.logger.child({ requestId: info.requestId }),
      prisma: deps.domain.prisma,
      loaders: createLoaders(deps.domain.prisma, viewer),
      domain: deps.domain,
      pubsub: deps.pubsub,
    };
  };
}

/**
 * Forgets everything loaded so far. After a mutation, what the loaders cached before it is stale;
 * a subscription keeps one context for its whole life, so each event must read afresh.
 */
export function renewLoaders(ctx: Context): Loaders {
  ctx.loaders = createLoaders(ctx.prisma, ctx.viewer);
  return ctx.loaders;
}
