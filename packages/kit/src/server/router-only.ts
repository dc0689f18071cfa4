/**
 * Express middleware and an upgrade check that refuse anything not signed by the router. Mounted in
 * front of a subgraph's /graphql, so a caller who reaches a subgraph directly gets nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { Headers, headerValue } from '../headers.ts';
import { verifyRouterSignature, type SignatureCheck } from '../router-signature.ts';

export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
}

export function checkRouterSignature(
  secret: string,
  req: IncomingMessage,
  body: string,
  path: string = req.url ?? '/',
): SignatureCheck {
  return verifyRouterSignature(secret, headerValue(req.headers, Headers.routerSignature), {
    method: req.method ?? 'GET',
    path,
    authorization: headerValue(req.headers, Headers.authorization),
    clientIp: headerValue(req.headers, Headers.clientIp),
    body,
  });
}

export function requireRouterSignature(secret: string) {
  return (req: RawBodyRequest, res: Response, next: NextFunction) => {
    const check = checkRouterSignature(secret, req, req.rawBody?.toString('utf8') ?? '', req.originalUrl);
    if (check.ok) return next();
    res.status(403).json({
      errors: [
        {
          message: `This service only answers the Campus router (${check.reason}). Send your request to the router instead.`,
          extensions: { code: 'FORBIDDEN' },
        },
      ],
    });
  };
}
