/**
 * The gate in front of a subgraph's /graphql, HTTP and WebSocket upgrade alike: a request passes
 * only when a service this one trusts signed it (service-identity/request-signature.ts), for this
 * service, once; and when that service is not the router, only for what it may ask
 * (service-identity/caller-permissions.ts). A caller who reaches a subgraph directly gets nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { GraphQLSchema } from 'graphql';
import { Headers, headerValue } from '../core/headers.ts';
import type { Logger } from '../core/logger.ts';
import { callerOperationProblem, type CallerPermissions } from '../identity/caller-permissions.ts';
import { keySetFrom } from '../identity/service-keys.ts';
import { ROUTER_ISSUER, verifyRequestSignature, type RequestCheck, type RequestVerifier, type SignedParts } from '../identity/request-signature.ts';
import { createSeenRequestIds } from '../identity/seen-request-ids.ts';

/** The issuer name the router signs as; the only caller that may ask anything and open WebSockets. */

export interface ServiceCaller {
  /** Its public keys: a JWKS URL or document (<NAME>_JWKS). */
  jwks: string;
  /** What it may ask this service; everything else is refused with 403. */
  may: CallerPermissions;
}

export interface SubgraphIdentity {
  /** The router's public keys: a JWKS URL or document (ROUTER_JWKS). */
  routerJwks: string;
  /** Services other than the router that call this one, by the name they sign as. */
  callers?: Record<string, ServiceCaller>;
  /** Seen request ids are shared by every instance through Redis; kept in memory without it. */
  redisUrl?: string | undefined;
}

export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
}

export interface RequestGate {
  /** Express middleware for POST /graphql; reads `rawBody` (RawBodyRequest) and the parsed body. */
  http(req: RawBodyRequest, res: Response, next: NextFunction): Promise<void>;
  /** Checks a WebSocket upgrade to /graphql: the router's signature only. */
  upgrade(req: IncomingMessage): Promise<RequestCheck>;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface RequestGateOptions {
  /** This service's name, the `aud` every signature must carry. */
  service: string;
  schema: GraphQLSchema;
  identity: SubgraphIdentity;
  logger: Logger;
}

function partsOf(req: IncomingMessage, path: string, body: string): SignedParts {
  return {
    method: req.method ?? 'GET',
    path,
    authorization: headerValue(req.headers, Headers.authorization),
    clientIp: headerValue(req.headers, Headers.clientIp),
    // The trace a request continues is the one its caller signed (docs/observability.md).
    traceparent: headerValue(req.headers, Headers.traceparent),
    body,
  };
}

export function createRequestGate({ service, schema, identity, logger }: RequestGateOptions): RequestGate {
  const callers = identity.callers ?? {};
  if (ROUTER_ISSUER in callers) throw new Error(`${service}: "${ROUTER_ISSUER}" is the router, not a caller with permissions`);
  const seen = createSeenRequestIds({ redisUrl: identity.redisUrl, logger });
  const verifier: RequestVerifier = {
    audience: service,
    issuers: new Map([[ROUTER_ISSUER, keySetFrom(identity.routerJwks)], ...Object.entries(callers).map(([name, c]) => [name, keySetFrom(c.jwks)] as const)]),
    seen,
  };
  const check = async (req: IncomingMessage, path: string, body: string) => {
    const result = await verifyRequestSignature(verifier, headerValue(req.headers, Headers.serviceSignature), partsOf(req, path, body));
    if (!result.ok) {
      // Not a fault of ours (a stray client, a forger, a replay) unless the keys could not be loaded.
      if (result.keysUnavailable) logger.error({ reason: result.reason }, 'could not check a request signature');
      else logger.warn({ reason: result.reason, path }, 'refused a request not signed by a trusted service');
    }
    return result;
  };
  const forbidden = (res: Response, message: string) =>
    void res.status(403).json({ errors: [{ message, extensions: { code: 'FORBIDDEN' } }] });

  return {
    async http(req, res, next) {
      const result = await check(req, req.originalUrl, req.rawBody?.toString('utf8') ?? '');
      if (!result.ok) {
        if (result.keysUnavailable) {
          res.status(503).json({ errors: [{ message: `This service ${result.reason}; try again in a moment.`, extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
          return;
        }
        return forbidden(res, `This service only answers the Campus router and the services it trusts (${result.reason}). Send your request to the router instead.`);
      }
      const caller = callers[result.issuer];
      if (caller) {
        const problem = callerOperationProblem(schema, result.issuer, caller.may, req.body);
        if (problem) {
          logger.warn({ caller: result.issuer, problem }, 'refused a service asking for more than it may');
          return forbidden(res, `${problem}: the ${service} service answers ${result.issuer} only what it needs.`);
        }
      }
      next();
    },
    async upgrade(req) {
      const result = await check(req, req.url ?? '/', '');
      if (result.ok && result.issuer !== ROUTER_ISSUER) {
        logger.warn({ caller: result.issuer }, 'refused a WebSocket from a service other than the router');
        return { ok: false, reason: `${result.issuer} may not open WebSockets here` };
      }
      return result;
    },
    ready: () => seen.ready(),
    close: () => seen.close(),
  };
}
