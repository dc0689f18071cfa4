/**
 * The hostile requests of the edge benchmark, each valid against the supergraph (fields and
 * arguments from subgraphs/courses/schema.graphql and subgraphs/users/schema.graphql), so that a
 * router without limits validates, plans and runs them as it would any client's. Each kind is fired
 * continuously, `concurrency` at a time, from its own loopback address (http-request.ts), so that
 * one kind being rate limited does not hide what the router does with the others.
 *
 * Every request of the expensive kinds differs from the others by an alias carrying its serial
 * number, as an attacker's would: the same text again would be answered from the router's parse,
 * validation and query-plan caches (keyed by the operation's text) and measure only the first.
 */
import { randomBytes } from 'node:crypto';

export interface HostileKind {
  name: string;
  /** One line for the report. */
  description: string;
  /** Requests of this kind kept in flight at once. */
  concurrency: number;
  /** Last octet of the kind's source address, 127.0.0.x (bench/edge.ts). */
  addressOctet: number;
  /** The JSON body of request number `n` (unique within the attacker process). */
  body(n: number): { query: string; operationName?: string; variables?: Record<string, unknown> };
}

/**
 * `courses → instructor → coursesTaught` nested `levels` times. `name` comes from the users
 * subgraph and `coursesTaught` from courses, so every level is a hop between subgraphs: the plan
 * is hundreds of dependent fetches, and planning cost grows with depth. (Without `name`, courses
 * resolves the whole nesting itself and the router plans one fetch.)
 */
export function deepQuery(levels: number, n = 0): string {
  const open = 'instructor { name coursesTaught(first: 10) { edges { node { ';
  const close = '} } } } ';
  return `query Deep { d${n}: courses(first: 100) { edges { node { ${open.repeat(levels)}id ${close.repeat(levels)}} } } }`;
}

/** `aliases` full catalog pages in one request: each alias is its own 100-course fetch. */
export function wideCatalogQuery(aliases: number, n = 0): string {
  const page = 'courses(first: 100) { edges { node { id title price { amount currency } instructor { name } lessons { title } } } }';
  return `{ ${Array.from({ length: aliases }, (_, i) => `c${i}${i === 0 ? `_${n}` : ''}: ${page}`).join(' ')} }`;
}

/** The cheapest field repeated: nothing to fetch, everything to validate and plan. */
export function aliasedMeQuery(aliases: number, n = 0): string {
  return `{ ${Array.from({ length: aliases }, (_, i) => `m${i}${i === 0 ? `_${n}` : ''}: me { id }`).join(' ')} }`;
}

/** `aliases` sign-ups in one mutation, each a new account (an Argon2 hash on the users subgraph). */
export function aliasedSignUps(aliases: number): string {
  const tag = randomBytes(6).toString('hex');
  const fields = Array.from(
    { length: aliases },
    (_, i) => `s${i}: signUp(input: { email: "edge-${tag}-${i}@campus.test", password: "edge-bench-password", name: "Edge ${i}" }) { accessToken }`,
  );
  return `mutation SignUps { ${fields.join(' ')} }`;
}

export const FLOOD_QUERY = 'query Flood { courses(first: 1) { totalCount } }';

export const HOSTILE_KINDS: HostileKind[] = [
  {
    name: 'deep',
    description: 'courses → instructor { name } → coursesTaught nested 250 levels (~17 KB)',
    concurrency: 8,
    addressOctet: 2,
    body: (n) => ({ query: deepQuery(250, n), operationName: 'Deep' }),
  },
  {
    name: 'wide',
    description: '50 aliased courses(first: 100) { … } (~6 KB), anonymous',
    concurrency: 4,
    addressOctet: 3,
    body: (n) => ({ query: wideCatalogQuery(50, n) }),
  },
  {
    name: 'aliases',
    description: '10,000 aliases of me { id }',
    concurrency: 2,
    addressOctet: 4,
    body: (n) => ({ query: aliasedMeQuery(10_000, n) }),
  },
  {
    name: 'signups',
    description: '50 aliased signUp mutations in one request',
    concurrency: 1,
    addressOctet: 5,
    body: () => ({ query: aliasedSignUps(50), operationName: 'SignUps' }),
  },
  {
    name: 'flood',
    // The same small query every time, as a scraper or a retry storm sends it: cheap per request.
    description: 'a small catalog query, the same every time',
    concurrency: 32,
    addressOctet: 6,
    body: () => ({ query: FLOOD_QUERY, operationName: 'Flood' }),
  },
];
