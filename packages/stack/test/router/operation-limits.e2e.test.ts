/**
 * The router's operation limits and demand control, through the real router over HTTP and
 * graphql-ws, on the defaults a deployment gets (only the response cap is lowered, so a small
 * seeded catalog can exceed it).
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { connectWs, errorCode, graphql, logIn, type WsConnection } from '@campus/test-kit';
import { startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@campus/router/config';

const defaults = loadConfig({});
const MAX_RESPONSE_BYTES = 4_096;

const CATALOG = /* GraphQL */ `
  query Catalog {
    courses(first: 10, filter: { isFree: false }, orderBy: POPULARITY) {
      totalCount
      edges { node { id title price { amount currency } instructor { name } lessonCount } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

/** `courses → instructor → coursesTaught`, `levels` times: the nesting an attacker reaches for. */
function chain(levels: number, first = 1): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `instructor { coursesTaught(first: ${first}) { edges { node { id ${inner} } } } }`;
  return inner;
}
const nested = (levels: number, first = 1) => `{ courses(first: ${first}) { edges { node { ${chain(levels, first)} } } } }`;

/** graphql-ws answers a refused operation with an `error` message: the client rejects with its errors. */
async function refusal(result: Promise<unknown>): Promise<{ message: string; extensions?: Record<string, unknown> }[]> {
  try {
    await result;
  } catch (errors) {
    return errors as { message: string; extensions?: Record<string, unknown> }[];
  }
  throw new Error('The operation was not refused.');
}

const aliased = (n: number, selection: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;

describe('operation limits at the router', () => {
  let stack: TestStack;
  let url: string;
  let studentToken: string;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ env: { LIMIT_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES) } });
    url = stack.routerUrl;
    studentToken = (await logIn(url, DEMO_ACCOUNTS[2].email, DEMO_PASSWORD)).accessToken;
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await stack?.close();
  });

  const ws = async (token?: string) => {
    const connection = await connectWs(url, { token });
    sockets.push(connection);
    return connection;
  };

  it('refuses an operation nested deeper than the limit, saying which limit and how deep it went', async () => {
    const r = await graphql(url, nested(5));
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_DEEP', limit: defaults.limits.maxDepth, found: 3 + 5 * 4 + 1 });
    expect(r.errors?.[0]?.message).toContain(`at most ${defaults.limits.maxDepth}`);
  });

  it('refuses too many aliases, root fields and directives, each with its own code', async () => {
    const aliases = await graphql(url, `{ me { ${Array.from({ length: defaults.limits.maxAliases + 1 }, (_, i) => `a${i}: id`).join(' ')} } }`, { token: studentToken });
    expect(aliases.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_ALIASES', limit: defaults.limits.maxAliases, found: defaults.limits.maxAliases + 1 });

    const roots = await graphql(url, `{ ${Array.from({ length: defaults.limits.maxRootFields + 1 }, () => 'me { id }').join(' ')} }`);
    expect(roots.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_ROOT_FIELDS', limit: defaults.limits.maxRootFields, found: defaults.limits.maxRootFields + 1 });

    const directives = await graphql(url, `{ me { id ${'@include(if: true) '.repeat(defaults.limits.maxDirectives + 1)} } }`);
    expect(directives.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_DIRECTIVES', limit: defaults.limits.maxDirectives });
  });

  it('refuses an operation with too many tokens before parsing it, and 10,000 aliases of me { id } at once', async () => {
    const started = Date.now();
    const r = await graphql(url, aliased(10_000, 'me { id }'), { token: studentToken });
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_TOKENS', limit: defaults.limits.maxTokens });
    // Not a timing assertion: refused before the planner, it cannot take the seconds planning did.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('applies the same limits to operations over graphql-ws', async () => {
    const socket = await ws(studentToken);
    const deep = socket.subscribe(`subscription { courseUpdated(id: "00000000-0000-0000-0000-000000000000") { ${chain(5)} } }`);
    const ended = await deep.ended;
    expect((ended.error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('OPERATION_TOO_DEEP');
    expect(deep.results).toEqual([]);

    const aliases = await refusal(socket.execute(`{ me { ${Array.from({ length: defaults.limits.maxAliases + 1 }, (_, i) => `a${i}: id`).join(' ')} } }`));
    expect(aliases[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');

    const tokens = await refusal(socket.execute(aliased(10_000, 'me { id }')));
    expect(tokens[0]?.extensions?.code).toBe('TOO_MANY_TOKENS');
    // HTTP's status is no business of a socket's client.
    expect(tokens[0]?.extensions?.http).toBeUndefined();
  });

  it('refuses the 50-alias catalog request on its estimated cost, even with the alias limit raised', async () => {
    const heavy = aliased(50, 'courses(first: 100) { edges { node { id title instructor { name } lessons { title } } } }');
    // The alias limit alone refuses it at the defaults...
    expect(errorCode(await graphql(url, heavy))).toBe('TOO_MANY_ALIASES');
    // ...and so does demand control, on a request with no aliases at all.
    const r = await graphql(url, '{ courses(first: 100) { edges { node { id lessons { title } instructor { coursesTaught(first: 100) { edges { node { lessons { title } } } } } } } } }');
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_EXPENSIVE', limit: defaults.demandControl.maxCost });
    expect(r.errors?.[0]?.extensions?.found).toBeGreaterThan(defaults.demandControl.maxCost);
  });

  it('reads list sizes from paging variables, not only from literals', async () => {
    const query = 'query($n: Int) { courses(first: $n) { edges { node { id instructor { coursesTaught(first: $n) { edges { node { id } } } } } } } }';
    expect(errorCode(await graphql(url, query, { variables: { n: 100 } }))).toBe('OPERATION_TOO_EXPENSIVE');
    const small = await graphql(url, query, { variables: { n: 2 } });
    expect(small.errors).toBeUndefined();
  });

  it('passes the README catalog and learning queries, and reports estimated and actual cost when asked', async () => {
    const plain = await graphql(url, CATALOG);
    expect(plain.errors).toBeUndefined();
    expect(plain.data.courses.edges.length).toBeGreaterThan(0);
    expect((plain as { extensions?: unknown }).extensions).toBeUndefined();

    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-campus-debug-cost': '1' },
      body: JSON.stringify({ query: CATALOG }),
    });
    const body = (await res.json()) as { data: unknown; extensions: { cost: { estimated: number; actual: number; max: number } } };
    const { estimated, actual, max } = body.extensions.cost;
    expect(max).toBe(defaults.demandControl.maxCost);
    // The connection, then first: 10 edges, each with a node, its price and instructor, then pageInfo.
    expect(estimated).toBe(1 + 10 * 4 + 1);
    // The same count on what came back: paid courses all have a price.
    const courses = (body.data as { courses: { edges: unknown[] } }).courses.edges.length;
    expect(actual).toBe(1 + courses * 4 + 1);
    expect(actual).toBeLessThanOrEqual(estimated);

    const learning = await graphql(
      url,
      `query MyLearning { me { name enrollments(first: 10) { totalCount edges { node { status progress { percent completedLessons totalLessons } course { title instructor { name } } } } } } }`,
      { token: studentToken },
    );
    expect(learning.errors).toBeUndefined();
  });

  it('replaces a response over the size cap with RESPONSE_TOO_LARGE', async () => {
    const r = await graphql(url, '{ courses(first: 100) { edges { node { id title description slug lessons { title } } } } }');
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: MAX_RESPONSE_BYTES });
    expect(r.errors?.[0]?.extensions?.found).toBeGreaterThan(MAX_RESPONSE_BYTES);
    expect(r.data ?? null).toBeNull();
  });

  it('answers a valid operation as before, the limits do not touch it', async () => {
    const r = await graphql(url, '{ me { id name } }', { token: studentToken });
    expect(r.errors).toBeUndefined();
    expect(r.data.me.name).toBe(DEMO_ACCOUNTS[2].name);
  });
});
