/**
 * How the router talks to subgraphs: forwards the client's token, the request id and the client's
 * address, and signs every request (ARCHITECTURE.md section 5) so subgraphs can refuse anyone else.
 * Signing happens in the fetcher because only there is the exact body that goes on the wire known.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Headers, signRouterRequest } from '@campus/kit';
import type { RouterContext } from './context.ts';

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

export function signingFetcher(secret: string): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const headers = { ...(init.headers ?? {}) };
    const target = new URL(url);
    headers[Headers.routerSignature] = signRouterRequest(secret, {
      method: init.method ?? 'POST',
      path: target.pathname + target.search,
      authorization: headers[Headers.authorization],
      clientIp: headers[Headers.clientIp],
      body: init.body ?? '',
    });
    return fetch(url, { ...init, headers });
  }) as unknown as Fetcher;
}

export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>) {
    const headers = request.http?.headers;
    if (!headers || !context) return;
    if (context.authorization) headers.set(Headers.authorization, context.authorization);
    if (context.requestId) headers.set(Headers.requestId, context.requestId);
    if (context.clientIp) headers.set(Headers.clientIp, context.clientIp);
  }
}
