/** What every service reads off an incoming request, HTTP or WebSocket upgrade alike. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Headers, headerValue } from './headers.ts';

export interface RequestInfo {
  requestId: string;
  authorization: string | undefined;
  clientIp: string | undefined;
}

/**
 * Read once per request: a request without a usable id gets a fresh one, and every reader (the
 * request scope that logs it, the context that forwards it) must see the same one.
 */
const seen = new WeakMap<IncomingMessage, RequestInfo>();

/** Request ids from the router are kept (so logs join up across services); others get a fresh one. */
export function requestInfo(req: IncomingMessage): RequestInfo {
  let info = seen.get(req);
  if (!info) {
    const given = headerValue(req.headers, Headers.requestId);
    info = {
      requestId: given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID(),
      authorization: headerValue(req.headers, Headers.authorization),
      clientIp: headerValue(req.headers, Headers.clientIp),
    };
    seen.set(req, info);
  }
  return info;
}
