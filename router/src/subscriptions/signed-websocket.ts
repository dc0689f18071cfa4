/**
 * The WebSocket the router opens to a subgraph. Subgraphs accept an upgrade only with the router's
 * signature (docs/identity/service-identity.md; packages/kit/src/subgraph/signed-requests.ts), and build the subscription's context from the upgrade's
 * headers, so the client's token, the request id and the client address travel here — there is no
 * other place: graphql-ws sends no headers after the upgrade.
 *
 * graphql-ws constructs `new WebSocketImpl(url, protocol)` itself, on every (re)connect, so the
 * headers are computed in the constructor: a reconnect gets a fresh signature with a new request
 * id, instead of a stale or already-seen one the subgraph would refuse. That constructor is
 * synchronous, which is why signing is (packages/kit/src/identity/request-signature.ts).
 */
import { Headers } from '@campus/kit/core';
import type { RequestSigner } from '@campus/kit/identity';
import WebSocket from 'ws';

export interface ForwardedHeaders {
  authorization?: string | undefined;
  requestId?: string | undefined;
  clientIp?: string | undefined;
}

/** `audience`: the subgraph's name in the supergraph. */
export function signedWebSocket(signer: RequestSigner, audience: string, forward: ForwardedHeaders): unknown {
  return class SignedWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      const url = new URL(address);
      const headers: Record<string, string> = {};
      if (forward.authorization) headers[Headers.authorization] = forward.authorization;
      if (forward.requestId) headers[Headers.requestId] = forward.requestId;
      if (forward.clientIp) headers[Headers.clientIp] = forward.clientIp;
      headers[Headers.serviceSignature] = signer.sign(audience, {
        method: 'GET',
        path: url.pathname + url.search,
        authorization: forward.authorization,
        clientIp: forward.clientIp,
        body: '',
      });
      super(address, protocols, { headers });
    }
  };
}

/** http://host/graphql → ws://host/graphql (https → wss). */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
