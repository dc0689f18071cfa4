/**
 * How the router talks to subgraphs: forwards the client's token, the request id and the client's
 * address, and signs every request with the router's own key (docs/identity/service-identity.md;
 * packages/kit/src/identity/request-signature.ts) so subgraphs can refuse anyone else.
 * Signing happens in the fetcher because only there is the exact body that goes on the wire known,
 * and it happens on every fetch: a retry carries a new request id, or the subgraph would refuse it
 * as a replay.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Headers } from '@campus/kit/core';
import type { RequestSigner } from '@campus/kit/identity';
import type { RouterContext } from './context.ts';
import { fetchSignal, isQueryOperation, type SubgraphGuard } from './subgraph-resilience.ts';

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

/** Signs for `audience`, the subgraph's name in the supergraph (each subgraph refuses signatures meant for another). */
export function signingFetcher(signer: RequestSigner, audience: string): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const headers = { ...(init.headers ?? {}) };
    const target = new URL(url);
    headers[Headers.serviceSignature] = signer.sign(audience, {
      method: init.method ?? 'POST',
      path: target.pathname + target.search,
      authorization: headers[Headers.authorization],
      clientIp: headers[Headers.clientIp],
      body: init.body ?? '',
    });
    // The signal carries the fetch's timeout and the request's deadline (subgraph-resilience.ts).
    return fetch(url, { ...init, headers, signal: fetchSignal() ?? null });
  }) as unknown as Fetcher;
}

export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  private readonly guard: SubgraphGuard;

  constructor({ guard, ...config }: { url: string | undefined; fetcher: Fetcher; guard: SubgraphGuard }) {
    super(config);
    this.guard = guard;
  }

  /** Every fetch, retry included, goes through the subgraph's timeout, breaker and the request's deadline. */
  override process(options: GraphQLDataSourceProcessOptions<RouterContext>): ReturnType<RemoteGraphQLDataSource<RouterContext>['process']> {
    // Only a client's operation has a request context (and so a deadline); schema loading has none.
    const incoming = 'incomingRequestContext' in options ? options : undefined;
    return this.guard.run(
      {
        retryable: isQueryOperation(options.request.query ?? '', incoming?.document),
        execution: incoming?.incomingRequestContext,
      },
      () => super.process(options),
    );
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>) {
    const headers = request.http?.headers;
    if (!headers || !context) return;
    if (context.authorization) headers.set(Headers.authorization, context.authorization);
    if (context.requestId) headers.set(Headers.requestId, context.requestId);
    if (context.clientIp) headers.set(Headers.clientIp, context.clientIp);
  }
}
