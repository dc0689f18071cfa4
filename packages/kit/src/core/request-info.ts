/** What every service reads off an incoming request, HTTP or WebSocket upgrade alike. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Headers, headerValue } from './headers.ts';

export interface RequestInfo {
  requestId: string;
  authorization: string | undefined;
  clientIp: string | undefined;
}

/** Request ids from the router are kept (so logs join up across services); others get a fresh one. */
export function requestInfo(req: IncomingMessage): RequestInfo {
  const given = headerValue(req.headers, Headers.requestId);
  return {
    requestId: given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID(),
    authorization: headerValue(req.headers, Headers.authorization),
    clientIp: headerValue(req.headers, Headers.clientIp),
  };
}
