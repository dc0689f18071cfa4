/**
 * Requests signed the way the router (or payments) signs them for a subgraph
 * (docs/identity/service-identity.md), and a throwaway signing key for tests of one service.
 */
import { Headers as CampusHeaders } from '@campus/kit/core';
import { createRequestSigner, generateServiceKeyPem, publicJwks, type RequestSigner } from '@campus/kit/identity';
import { postRaw, type GraphQLResponse, type RequestOptions } from './http.ts';

/** Who a test request is signed as (`signer`: stack.signers.router, ...) and for which service (`audience`: 'users', ...). */
export interface SignAs {
  signer: RequestSigner;
  audience: string;
}

export interface ThrowawaySigner {
  /** The PEM private key (what <NAME>_SIGNING_KEYS holds). */
  pem: string;
  /** Its public half, as a service trusting the issuer is configured with it (e.g. ROUTER_JWKS). */
  jwks: string;
  /** Signs as `issuer` for `audience`. */
  as(audience: string): SignAs;
}

/** A key made for this test run only, signing as `issuer` (ROUTER_ISSUER, 'payments', ...). */
export function throwawaySigner(issuer: string): ThrowawaySigner {
  const pem = generateServiceKeyPem();
  const signer = createRequestSigner(issuer, [pem]);
  return { pem, jwks: JSON.stringify(publicJwks([pem])), as: (audience) => ({ signer, audience }) };
}

/** A subgraph request as the router (or payments) would send it: the exact body and its headers, signature included. */
export function signSubgraphRequest(subgraphUrl: string, as: SignAs, query: string, options: RequestOptions = {}) {
  const body = JSON.stringify({ query, variables: options.variables });
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const path = new URL(subgraphUrl).pathname;
  const clientIp = options.headers?.[CampusHeaders.clientIp];
  const signature = as.signer.sign(as.audience, { method: 'POST', path, authorization, clientIp, body });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(authorization ? { authorization } : {}),
    ...options.headers,
    [CampusHeaders.serviceSignature]: signature,
  };
  return { body, headers };
}

/** Calls a subgraph directly, signed as `as.signer` signs for `as.audience`, with a fresh request id. */
export async function signedSubgraphRequest<T = any>(subgraphUrl: string, as: SignAs, query: string, options: RequestOptions = {}): Promise<GraphQLResponse<T>> {
  return postRaw<T>(subgraphUrl, signSubgraphRequest(subgraphUrl, as, query, options));
}

/**
 * Upgrade headers a subgraph accepts: the router's signature (and the forwarded token). A function,
 * so every (re)connect is signed afresh with a new request id, as the router's own sockets are.
 */
export function signedUpgradeHeaders(subgraphUrl: string, as: SignAs, token?: string): () => Record<string, string> {
  return () => {
    const authorization = token ? `Bearer ${token}` : undefined;
    const path = new URL(subgraphUrl).pathname;
    return {
      ...(authorization ? { authorization } : {}),
      [CampusHeaders.serviceSignature]: as.signer.sign(as.audience, { method: 'GET', path, authorization, body: '' }),
    };
  };
}
