/** The per-request context of the users service: who is asking, and fresh loaders. */
import type { Logger, RequestInfo } from '@campus/kit/core';
import { asUnauthorizedResponse, viewerFromAuthorization, type TokenVerifier, type Viewer } from '@campus/kit/identity';
import type { PubSub } from '@campus/kit/events';
import type { UsersDomain } from './domain.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { currentViewer } from './sessions.ts';

export interface Context {
  /** From a verified token whose session is live, with the role the account has now (sessions.ts currentViewer). */
  viewer: Viewer | null;
  /** Set by signUp/logIn/refreshSession: the account the request just signed in. */
  signedInAs?: string;
  requestId: string;
  clientIp: string | undefined;
  logger: Logger;
  prisma: PrismaClient;
  loaders: Loaders;
  domain: UsersDomain;
  /** Where subscriptions listen (the publishing side is `domain.live`). */
  pubsub: PubSub;
}

export interface ContextDeps {
  domain: UsersDomain;
  verifyToken: TokenVerifier;
  logger: Logger;
  pubsub: PubSub;
}

export function contextFactory(deps: ContextDeps) {
  return async (info: RequestInfo): Promise<Context> => {
    const claimed = await viewerFromAuthorization(deps.verifyToken, info.authorization);
    const loaders = createLoaders(deps.domain.prisma);
    let viewer: Viewer | null = null;
    if (claimed) {
      // This service is the source of sessions and roles: the token's claims are checked against them.
      try {
        const current = await currentViewer(deps.domain.prisma, claimed);
        viewer = current.viewer;
        loaders.userById.prime(current.user.id, current.user);
      } catch (e) {
        throw asUnauthorizedResponse(e);
      }
    }
    return {
      viewer,
      requestId: info.requestId,
      clientIp: info.clientIp,
      logger: deps.logger.child({ requestId: info.requestId }),
      prisma: deps.domain.prisma,
      loaders,
      domain: deps.domain,
      pubsub: deps.pubsub,
    };
  };
}
