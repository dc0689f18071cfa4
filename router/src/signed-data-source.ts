/**
 * How the router talks to subgraphs: forwards the client's token, the request id and the client's
 * address, and signs every request with the router's own key (docs/identity/service-identity.md;
 * packages/kit/src/identity/request-signature.ts) so subgraphs can refuse anyone else.
 * Signing happens in the fetcher because only there is the exact body that goes on the wire known,
 * and it happens on every fetch: a retry carries a new request id, or the subgraph would refuse it
 * as a replay.
 *
 * While tracing is on, each fetch runs in a client span (observability/tracing.ts) whose
 * traceparent goes with the request, inside the signature: a subgraph refuses a traceparent other
 * than the one signed.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Headers } from '@campus/kit/core';
import type { RequestSigner } from '@campus/kit/identity';
import type { RouterContext } from './context.ts';
import { recordSubgraphStatus, subgraphTraceHeaders, traceSubgraphFetch } from './observability/tracing.ts';
import { fetchSignal, isQueryOperation, type SubgraphGuard } from './subgraph-resilience.ts';

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

/** Signs for `audience`, the subgraph's name in the supergraph (each subgraph refuses signatures meant for another). */
export function signingFetcher(signer: RequestSigner, audience: string): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const headers = { ...(init.headers ?? {}), ...subgraphTraceHeaders() };
    const target = new URL(url);
    headers[Headers.serviceSignature] = signer.sign(audience, {
      method: init.method ?? 'POST',
      path: target.pathname + target.search,
      authorization: headers[Headers.authorization],
      clientIp: headers[Headers.clientIp],
      traceparent: headers[Headers.traceparent],
      body: init.body ?? '',
    });
    // The signal carries the fetch's timeout and the request's deadline (subgraph-resilience.ts).
    const response = await fetch(url, { ...init, headers, signal: fetchSignal() ?? null });
    recordSubgraphStatus(response.status);
    return response;
  }) as unknown as Fetcher;
}

export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  private readonly guard: SubgraphGuard;
  /** The subgraph's name in the supergraph, for its fetch spans (its URL when not given). */
  private readonly subgraph: string;

  constructor({ guard, name, ...config }: { url: string | undefined; fetcher: Fetcher; guard: SubgraphGuard; name?: string }) {
    super(config);
    this.guard = guard;
    this.subgraph = name ?? config.url ?? 'unknown';
  }

  /** Every fetch, retry included, goes through the subgraph's timeout, breaker and the request's deadline. */
  override process(options: GraphQLDataSourceProcessOptions<RouterContext>): ReturnType<RemoteGraphQLDataSource<RouterContext>['process']> {
    // Only a client's operation has a request context (and so a deadline); schema loading has none.
    const incoming = 'incomingRequestContext' in options ? options : undefined;
    return traceSubgraphFetch(this.subgraph, () =>
      this.guard.run(
        {
          retryable: isQueryOperation(options.request.query ?? '', incoming?.document),
          execution: incoming?.incomingRequestContext,
        },
        () => super.process(options),
      ),
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
