/**
 * The router's spans (docs/observability.md). The request's server span comes from the kit
 * (graphqlServerSpan / graphqlSpanPlugin, packages/kit/src/core/graphql-tracing.ts); here is the
 * client span of each subgraph fetch, `subgraph <name>`, the parent of the subgraph's own server
 * span: the fetcher (signed-data-source.ts) sends its traceparent, signed.
 *
 * One span per fetch the query plan makes, around the subgraph's timeout, breaker and the one
 * retry of a query (subgraph-resilience.ts): a retry is a second HTTP exchange under the same span,
 * and the subgraph's spans of both attempts hang from it.
 */
import { inClientSpan, recordHttpStatus, traceHeaders, tracingOn, type SpanAttributes } from '@campus/kit/core';

/** What the span reads of a fetch's result: the subgraph's GraphQL errors. */
interface SubgraphResponse {
  errors?: readonly { extensions?: Record<string, unknown> | undefined }[] | undefined;
}

function errorCodes(response: SubgraphResponse): SpanAttributes {
  if (!response.errors?.length) return {};
  const codes = response.errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR'));
  return { 'graphql.error.codes': [...new Set(codes)] };
}

/** Runs one subgraph fetch in its client span (SUBGRAPH_UNAVAILABLE and the like recorded when it throws); just runs it while tracing is off. */
export function traceSubgraphFetch<R extends SubgraphResponse>(subgraph: string, fetch: () => Promise<R>): Promise<R> {
  if (!tracingOn()) return fetch();
  return inClientSpan(`subgraph ${subgraph}`, { 'subgraph.name': subgraph }, fetch, errorCodes);
}

/** The headers that continue the trace in the subgraph: the fetch span's traceparent (and tracestate). */
export const subgraphTraceHeaders = (): Readonly<Record<string, string>> => traceHeaders();

/** The subgraph's HTTP answer, on the fetch's span (once per attempt). */
export const recordSubgraphStatus = recordHttpStatus;
