/**
 * Service-to-service GraphQL: payments asks another subgraph a question (a course's price, the
 * buyer's name) the way the router would, signed with the shared router secret, so the other
 * service's usual checks apply (its router-only gate, its token verification, its shield). The
 * viewer's own access token is forwarded: the answer is what that viewer may see, never more.
 */
import { GraphQLError } from 'graphql';
import { Headers, signRouterRequest, type Logger } from '@campus/kit';

export interface SubgraphClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:4002 (its GraphQL endpoint is /graphql). */
  baseUrl: string;
  service: string;
  routerSigningSecret: string;
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
  return async <T>(query: string, variables: Record<string, unknown>, authorization: string | undefined) => {
    const body = JSON.stringify({ query, variables });
    const signature = signRouterRequest(options.routerSigningSecret, {
      method: 'POST',
      path: url.pathname,
      authorization,
      clientIp: undefined,
      body,
    });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [Headers.routerSignature]: signature,
          ...(authorization ? { [Headers.authorization]: authorization } : {}),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (err) {
      options.logger.error({ err, service: options.service }, 'subgraph call failed');
      throw unavailable(options.service);
    }
    let reply: { data?: T | null; errors?: SubgraphReply<T>['errors'] };
    try {
      reply = (await res.json()) as typeof reply;
    } catch (err) {
      options.logger.error({ err, service: options.service, status: res.status }, 'subgraph answered with something that is not JSON');
      throw unavailable(options.service);
    }
    if (!reply.data && !reply.errors?.length) throw unavailable(options.service);
    return { data: reply.data ?? null, errors: reply.errors ?? [] };
  };
}
