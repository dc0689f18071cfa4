/**
 * How the router talks to subgraphs: forwards the client's token, the request id and the client's
 * address, and signs every request with the router's own key (docs/identity/service-identity.md;
 * packages/kit/src/identity/request-signature.ts) so subgraphs can refuse anyone else.
 * Signing happens per attempt, over the exact body that goes on the wire: a retry carries a new
 * request id, or the subgraph would refuse it as a replay.
 *
 * `process` does what RemoteGraphQLDataSource's does (the same body, headers, errors for non-2xx
 * answers, parseBody, cache-control hints), but sends through the router's own HTTP client
 * (subgraph-fetcher.ts) with the bounds of each attempt (subgraph-resilience.ts) instead of global
 * fetch with node-fetch Headers and Request objects, an AbortSignal and an AsyncLocalStorage scope
 * per fetch (docs/performance.md).
 *
 * While tracing is on, each fetch runs in a client span (observability/tracing.ts) whose
 * traceparent goes with the request, inside the signature: a subgraph refuses a traceparent other
 * than the one signed.
 *
 * With SUBGRAPH_DEDUP on, a query fetch identical to one in flight (same subgraph, body and
 * authorization) sends nothing, so signs nothing: it waits for that one's answer and parses the
 * answer's text for itself (subgraph-dedup.ts).
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { Headers } from '@campus/kit/core';
import type { RequestSigner } from '@campus/kit/identity';
import type { RouterContext } from './context.ts';
import { recordSubgraphStatus, subgraphTraceHeaders, traceSubgraphFetch } from './observability/tracing.ts';
import type { SubgraphDedup } from './subgraph-dedup.ts';
import type { SubgraphHttpClient, SubgraphResponse } from './subgraph-fetcher.ts';
import { isQueryOperation, type AttemptBounds, type SubgraphCall, type SubgraphGuard } from './subgraph-resilience.ts';

export interface SignedDataSourceOptions {
  /** The subgraph's name in the supergraph: the signatures' audience (each subgraph refuses signatures meant for another). */
  name: string;
  url: string;
  signer: RequestSigner;
  /** The HTTP client for `url` (subgraph-fetcher.ts), shared by every data source of that URL. */
  client: SubgraphHttpClient;
  guard: SubgraphGuard;
  /** Identical query fetches in flight, merged (SUBGRAPH_DEDUP); absent, every fetch is sent. */
  dedup?: SubgraphDedup<Fetched> | undefined;
}

/**
 * One fetch's outcome: the subgraph's answer, whose text waiters of a merged fetch parse for
 * themselves, and what the sender parsed of it (executeQueryPlan mutates it: the sender's alone).
 */
export interface Fetched {
  response: SubgraphResponse;
  result: GatewayGraphQLResponse;
}

/** What RemoteGraphQLDataSource's parseBody and errorFromResponse read; SubgraphResponse has those parts of it. */
type FetcherResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];

export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  private readonly guard: SubgraphGuard;
  private readonly subgraph: string;
  private readonly signer: RequestSigner;
  private readonly client: SubgraphHttpClient;
  private readonly dedup: SubgraphDedup<Fetched> | undefined;

  constructor({ guard, name, signer, client, url, dedup }: SignedDataSourceOptions) {
    super({ url });
    this.guard = guard;
    this.subgraph = name;
    this.signer = signer;
    this.client = client;
    this.dedup = dedup;
  }

  /** Every fetch, retry included, goes through the subgraph's timeout, breaker and the request's deadline. */
  override async process(options: GraphQLDataSourceProcessOptions<RouterContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    if (!request.query) throw new Error('Missing query');
    // Only a client's operation has a request context (and so a deadline); schema loading has none.
    const incoming = 'incomingRequestContext' in options ? options : undefined;
    const { http, ...fields } = request;
    // As RemoteGraphQLDataSource sends it: the request without `http`, `query` first.
    const body = JSON.stringify({ query: request.query, ...fields });
    const retryable = isQueryOperation(request.query, incoming?.document);
    // The subgraph's cache-control hint restricts the response's, as in RemoteGraphQLDataSource.
    const policy = incoming?.incomingRequestContext.overallCachePolicy;
    const cachePolicy = this.honorSubgraphCacheControlHeader && policy && 'restrict' in policy ? policy : undefined;
    const context = options.context;
    const call: SubgraphCall = { retryable, execution: incoming?.incomingRequestContext };
    // Queries only (retryable is isQueryOperation): a mutation sent once for two callers would run once.
    const identity =
      this.dedup && retryable ? { subgraph: this.subgraph, url: this.client.url, authorization: context?.authorization, headers: http?.headers, body } : undefined;
    return traceSubgraphFetch(this.subgraph, async () => {
      const send = () => {
        // Inside the fetch's span: its traceparent goes with the request (and into the signature).
        const headers: Record<string, string> = {};
        if (http?.headers) for (const [name, value] of http.headers) headers[name.toLowerCase()] = value;
        headers['content-type'] = 'application/json';
        if (context) {
          if (context.authorization) headers[Headers.authorization] = context.authorization;
          if (context.requestId) headers[Headers.requestId] = context.requestId;
          if (context.clientIp) headers[Headers.clientIp] = context.clientIp;
        }
        Object.assign(headers, subgraphTraceHeaders());
        return this.guard.run(call, (bounds) => this.attempt(headers, body, bounds));
      };
      let result: GatewayGraphQLResponse;
      let response: SubgraphResponse;
      const merged = identity ? this.dedup!.join(identity, send) : undefined;
      if (merged?.joined) {
        // Another caller's fetch: its answer's text, parsed for this caller alone.
        ({ response } = await this.guard.follow(call, merged.answer));
        recordSubgraphStatus(response.status);
        result = (await this.parseBody(response as unknown as FetcherResponse)) as GatewayGraphQLResponse;
      } else {
        ({ response, result } = await (merged ? merged.answer : send()));
      }
      // The subgraph's cache-control hint restricts this caller's response, as in RemoteGraphQLDataSource.
      cachePolicy?.restrict(cacheHint(response.headers.get('cache-control')));
      // Without `http` (RemoteGraphQLDataSource adds its fetch Response): nothing the router runs reads it.
      return result;
    });
  }

  /** One HTTP exchange, signed anew. */
  private async attempt(headers: Record<string, string>, body: string, bounds: AttemptBounds): Promise<Fetched> {
    headers[Headers.serviceSignature] = this.signer.sign(this.subgraph, {
      method: 'POST',
      path: this.client.path,
      authorization: headers[Headers.authorization],
      clientIp: headers[Headers.clientIp],
      traceparent: headers[Headers.traceparent],
      body,
    });
    const response = await this.client.post({ headers, body, timeoutMs: bounds.timeoutMs, expired: bounds.expired });
    recordSubgraphStatus(response.status);
    const fetched = response as unknown as FetcherResponse;
    if (!response.ok) throw await this.errorFromResponse(fetched);
    // Parsed here, inside the subgraph's policies: an answer that is not JSON fails the fetch.
    const parsed = await this.parseBody(fetched);
    if (typeof parsed !== 'object' || parsed === null) throw new Error(`Expected JSON response body, but received: ${String(parsed)}`);
    return { response, result: parsed as GatewayGraphQLResponse };
  }
}

/** A Cache-Control header as a cache hint, read as RemoteGraphQLDataSource reads it. */
function cacheHint(header: string | null | undefined): { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } {
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: 0 };
  if (!header) return hint;
  const parts = new Map<string, string | true>();
  for (const part of header.trim().split(/\s*,\s*/)) {
    const [key = '', value] = part.split(/\s*=\s*/, 2);
    parts.set(key, value === undefined ? true : value.replace(/^"|"$/g, ''));
  }
  const maxAge = parts.get('max-age');
  if (typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge)) hint.maxAge = Number(maxAge);
  if (parts.get('private') === true) hint.scope = 'PRIVATE';
  if (parts.get('public') === true) hint.scope = 'PUBLIC';
  return hint;
}
