/**
 * Writes are checked against the session's source of truth. Before a mutation by a signed-in
 * viewer is planned, the users service is asked whether the token's session and account still
 * stand: it looks both up in its own database on every request it receives
 * (docs/identity/sessions.md), so a tiny signed `{ __typename }` with the viewer's token answers
 * 401 for an ended session or an account that is gone.
 *
 * Why on top of the revocation store: a session ended through users is in the store and refused
 * everywhere within a second, but an account removed from the database without ending its
 * sessions first leaves no trace there, and its token would still write to courses and payments
 * (an enrollment for a user who no longer exists). Reads need no such check: a deleted account's
 * token reads nothing but its own, now empty, records.
 *
 * Fails closed: if users cannot answer, the mutation is refused with SUBGRAPH_UNAVAILABLE rather
 * than let through on a claim nobody could confirm.
 */
import { Headers } from '@campus/kit/core';
import type { RequestSigner } from '@campus/kit/identity';
import { GraphQLError } from 'graphql';
import type { EdgeOperation } from './admission.ts';

export const SESSION_CHECK_BODY = JSON.stringify({ query: '{ __typename }' });
const CHECK_TIMEOUT_MS = 5_000;

export interface SessionAtSourceOptions {
  /** The users subgraph's GraphQL URL in the supergraph served now. */
  usersUrl: () => string | undefined;
  signer: RequestSigner;
}

export function sessionAtSource({ usersUrl, signer }: SessionAtSourceOptions) {
  return async ({ operation, context }: Pick<EdgeOperation, 'operation' | 'context'>): Promise<void> => {
    if (operation.operation !== 'mutation' || !context.viewer || !context.authorization) return;
    const url = usersUrl();
    if (!url) return;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [Headers.authorization]: context.authorization,
      ...(context.requestId ? { [Headers.requestId]: context.requestId } : {}),
      ...(context.clientIp ? { [Headers.clientIp]: context.clientIp } : {}),
    };
    headers[Headers.serviceSignature] = signer.sign('users', {
      method: 'POST',
      path: new URL(url).pathname,
      authorization: context.authorization,
      clientIp: context.clientIp,
      body: SESSION_CHECK_BODY,
    });
    let status: number;
    try {
      status = (await fetch(url, { method: 'POST', headers, body: SESSION_CHECK_BODY, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) })).status;
    } catch {
      status = 0;
    }
    if (status === 401) {
      throw new GraphQLError('This session has ended or its account no longer exists. Log in again.', {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
    }
    if (status !== 200) {
      throw new GraphQLError('Your session could not be confirmed right now (the users service did not answer); try again shortly.', {
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'users', http: { status: 503 } },
      });
    }
  };
}
