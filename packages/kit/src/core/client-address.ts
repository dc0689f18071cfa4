/**
 * The bucket of a client address, the same for every per-address limit: the router's rate limits
 * (router/src/edge/rate-limits.ts) and the users service's login throttling
 * (subgraphs/users/src/login-throttle.ts). IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack
 * socket reports) is the IPv4 address; other IPv6 addresses count per /64, the smallest block a
 * network hands one subscriber: counting per /128 would give anyone with a /64 2^64 fresh budgets.
 */
import { isIP } from 'node:net';

export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const full = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - width(groups(head)) - width(groups(tail))).fill('0'), ...groups(tail)];
  return `${full.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
