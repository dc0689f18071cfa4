/**
 * The client's address for a WebSocket upgrade, decided the way Express decides `req.ip` for HTTP
 * (proxy-addr's walk): start at the socket's peer and step through X-Forwarded-For from the right
 * for as long as the hop is trusted. Both transports must agree, or per-address login throttling
 * could be dodged by switching transport.
 */
import type { IncomingMessage } from 'node:http';

export type TrustProxy = (address: string, hop: number) => boolean;

export function clientAddress(req: IncomingMessage, trust: TrustProxy): string | undefined {
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .reverse();
  const hops = [req.socket.remoteAddress ?? '', ...forwarded];
  for (let i = 0; i < hops.length - 1; i++) {
    if (!trust(hops[i]!, i)) return hops[i] || undefined;
  }
  return hops[hops.length - 1] || undefined;
}
