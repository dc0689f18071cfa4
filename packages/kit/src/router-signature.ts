/**
 * Subgraphs accept requests only from the router (ARCHITECTURE.md section 5). The router signs
 * every subgraph request with a shared secret: HMAC-SHA256 over a timestamp and the parts of the
 * request a forger would want to change (method, path, authorization, client address, body). The header
 * reads `t=<unix seconds>,v1=<hex>`, like Stripe's webhook signatures. A stale timestamp is
 * refused so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_TOLERANCE_SECONDS = 60;

export interface SignedParts {
  method: string;
  /** Path and query string, e.g. "/graphql". */
  path: string;
  authorization?: string | undefined;
  clientIp?: string | undefined;
  body: string;
}

const canonical = (t: number, p: SignedParts) =>
  [t, p.method.toUpperCase(), p.path, p.authorization ?? '', p.clientIp ?? '', p.body].join('\n');

const hmac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('hex');

export function signRouterRequest(secret: string, parts: SignedParts, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${hmac(secret, canonical(t, parts))}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifyRouterSignature(
  secret: string,
  header: string | undefined,
  parts: SignedParts,
  now = Date.now(),
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing router signature' };
  const fields = Object.fromEntries(header.split(',').map((kv) => kv.trim().split('=', 2) as [string, string]));
  const t = Number(fields.t);
  const given = fields.v1;
  if (!Number.isInteger(t) || !given) return { ok: false, reason: 'malformed router signature' };
  if (Math.abs(now / 1000 - t) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale router signature' };
  const expected = Buffer.from(hmac(secret, canonical(t, parts)), 'hex');
  const actual = Buffer.from(given, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, reason: 'invalid router signature' };
  }
  return { ok: true };
}
