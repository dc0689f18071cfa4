/**
 * Service-to-service GraphQL: payments asks another subgraph a question (a course's price, the
 * buyer's name), signed as payments with payments' own key, never as the router. The other
 * service checks the signature, then that payments asks only what it allows payments to ask
 * (subgraphs/courses/src/callers.ts, subgraphs/users/src/callers.ts), then its usual token
 * verification and shield. The viewer's own access token is forwarded: the answer is what that
 * viewer may see, never more. While tracing is on, each call is a client span whose traceparent
 * travels inside the signature, so the other service continues the checkout's trace
 * (docs/observability.md).
 */
import { GraphQLError } from 'graphql';
import { Headers, inClientSpan, recordHttpStatus, traceHeaders, type Logger } from '@campus/kit/core';
import type { RequestSigner } from '@campus/kit/identity';

export interface SubgraphClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:4002 (its GraphQL endpoint is /graphql). */
  baseUrl: string;
  /** The service's name: the audience of every signature sent to it. */
  service: string;
  /** Payments' own signer (issuer "payments"). */
  signer: RequestSigner;
  logger: Logger;
  timeoutMs?: number;
}

export interface SubgraphReply<T> {
  data: T | null;
  errors: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export type SubgraphClient = <T>(query: string, variables: Record<string, unknown>, authorization: string | undefined) => Promise<SubgraphReply<T>>;

/** The other service could not answer at all: nothing to do but try again later. */
export const unavailable = (service: string) =>
  new GraphQLError(`The ${service} service did not answer; nothing was changed. Try again in a moment.`, {
    extensions: { code: 'INTERNAL_SERVER_ERROR', service },
  });

export function subgraphClient(options: SubgraphClientOptions): SubgraphClient {
  const url = new URL('/graphql', options.baseUrl);
  const call = async <T>(query: string, variables: Record<string, unknown>, authorization: string | undefined) => {
    const body = JSON.stringify({ query, variables });
    const trace = traceHeaders();
    const signature = options.signer.sign(options.service, {
      method: 'POST',
      path: url.pathname,
      authorization,
      clientIp: undefined,
      traceparent: trace[Headers.traceparent],
      body,
    });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...trace,
          [Headers.serviceSignature]: signature,
          ...(authorization ? { [Headers.authorization]: authorization } : {}),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (err) {
      options.logger.error({ err, service: options.service }, 'subgraph call failed');
      throw unavailable(options.service);
    }
    recordHttpStatus(res.status);
    let reply: { data?: T | null; errors?: SubgraphReply<T>['errors'] };
    try {
      reply = (await res.json()) as typeof reply;
    } catch (err) {
      options.logger.error({ err, service: options.service, status: res.status }, 'subgraph answered with something that is not JSON');
      throw unavailable(options.service);
    }
    // The other service's gate refused payments itself (a key it does not know, a field its
    // callers.ts does not grant): our misconfiguration, never the buyer's "not found".
    if (res.status === 403 || res.status === 503) {
      options.logger.error({ service: options.service, status: res.status, errors: reply.errors?.map((e) => e.message) }, 'subgraph refused payments');
      throw unavailable(options.service);
    }
    if (!reply.data && !reply.errors?.length) throw unavailable(options.service);
    return { data: reply.data ?? null, errors: reply.errors ?? [] } satisfies SubgraphReply<T>;
  };
  return (query, variables, authorization) =>
    inClientSpan(`subgraph ${options.service}`, { 'subgraph.name': options.service }, () => call(query, variables, authorization));
}
