/** The per-request context of the users service: who is asking, and fresh loaders. */
import { viewerFromAuthorization, type Logger, type PubSub, type RequestInfo, type TokenVerifier, type Viewer } from '@campus/kit';
import type { AccountDeps } from './accounts.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  viewer: Viewer | null;
  /** Set by signUp/logIn/refreshSession: the account the request just signed in. */
  signedInAs?: string;
  requestId: string;
  clientIp: string | undefined;
  logger: Logger;
  prisma: PrismaClient;
  loaders: Loaders;
  accounts: AccountDeps;
  /** Where subscriptions listen (the publishing side is `accounts.events`). */
  pubsub: PubSub;
}

export interface ContextDeps {
  accounts: AccountDeps;
  verifyToken: TokenVerifier;
  logger: Logger;
  pubsub: PubSub;
}

export function contextFactory(deps: ContextDeps) {
  return async (info: RequestInfo): Promise<Context> => ({
    viewer: await viewerFromAuthorization(deps.verifyToken, info.authorization),
    requestId: info.requestId,
    clientIp: info.clientIp,
    logger: deps.logger.child({ requestId: info.requestId }),
    prisma: deps.accounts.prisma,
    loaders: createLoaders(deps.accounts.prisma),
    accounts: deps.accounts,
    pubsub: deps.pubsub,
  });
}
