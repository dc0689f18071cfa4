/**
 * TRUST_PROXY: which peers may tell the router who the client is (X-Forwarded-For), in Express's
 * `trust proxy` syntax so HTTP (`req.ip`) and graphql-ws (subscriptions/client-address.ts) decide
 * the same way from one compiled function.
 *
 * Unset, nothing is trusted and the socket's peer is the client: a client that writes its own
 * X-Forwarded-For gets no fresh rate-limit budget and no fresh login-throttle counter in the users
 * subgraph. Trusting a proxy that does not overwrite the header hands that choice back to clients,
 * so only name the proxies that actually sit in front of the router.
 *
 *   false | true          trust no hop (default) | every hop (only behind a proxy that rewrites XFF)
 *   2                     trust the nearest N hops (a load balancer, then a CDN)
 *   loopback, 10.0.0.0/8  comma-separated names (loopback, linklocal, uniquelocal), addresses, CIDRs
 */
import { isIP } from 'node:net';

export type TrustProxySetting = boolean | number | string[];

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isTrustEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined || !address) return false;
  const version = isIP(address);
  if (!version) return false;
  if (bits === undefined) return true;
  // A netmask (255.255.0.0) or a prefix length, as proxy-addr accepts.
  if (isIP(bits) === version) return true;
  return /^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

/** The message of a bad TRUST_PROXY, or undefined when `value` is one Express would accept. */
export function trustProxyProblem(value: string): string | undefined {
  const v = value.trim();
  if (v === 'true' || v === 'false' || /^\d+$/.test(v)) return undefined;
  const bad = v.split(',').map((e) => e.trim()).filter((e) => !isTrustEntry(e));
  return bad.length ? `not an address, CIDR, hop count, true/false or loopback/linklocal/uniquelocal: ${bad.join(', ')}` : undefined;
}

export function parseTrustProxy(value: string | undefined): TrustProxySetting {
  const v = value?.trim();
  if (!v || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((e) => e.trim()).filter(Boolean);
}
