/**
 * A client's graphql-ws connection as the router sees it: who it is (verified at
 * connection_init, like an HTTP request's bearer token) and what it forwards to subgraphs. Its
 * upstream subscriptions are shared with other clients of the same viewer scope, so they are not
 * the connection's own (shared-subscriptions.ts).
 */
import type { IncomingMessage } from 'node:http';
import { requestInfo } from '@campus/kit/core';
import type { TokenVerifier } from '@campus/kit/identity';
import { decodeJwt } from 'jose';
import { authenticate } from '../auth.ts';
import type { RouterContext } from '../context.ts';
import { clientAddress, type TrustProxy } from './client-address.ts';

export interface ClientConnection {
  context: RouterContext;
  /** When the access token expires (ms since epoch); the connection is closed then. */
  expiresAt: number | undefined;
}

/**
 * The token comes in the connection_init payload (`{ authorization: "Bearer …" }`, what browsers
 * can send) or, for clients that can set headers, on the upgrade request.
 */
function authorizationOf(params: Record<string, unknown> | undefined, req: IncomingMessage): string | undefined {
  for (const key of ['authorization', 'Authorization']) {
    const value = params?.[key];
    if (typeof value === 'string' && value) return value;
  }
  return requestInfo(req).authorization;
}

/** Throws (an UNAUTHENTICATED GraphQLError) when the connection carries a bad token. */
export async function openConnection(
  verifyToken: TokenVerifier,
  trustProxy: TrustProxy,
  params: Record<string, unknown> | undefined,
  req: IncomingMessage,
): Promise<ClientConnection> {
  const authorization = authorizationOf(params, req);
  const viewer = await authenticate(verifyToken, authorization);
  const context: RouterContext = {
    viewer,
    authorization,
    requestId: requestInfo(req).requestId,
    clientIp: clientAddress(req, trustProxy),
  };
  // The token was verified above; decoding it again only reads its expiry.
  const exp = viewer && authorization ? decodeJwt(authorization.replace(/^Bearer\s+/i, '')).exp : undefined;
  return {
    context,
    expiresAt: exp ? exp * 1000 : undefined,
  };
}
