/**
 * The router's fast path (router/src/fast-path/, docs/performance.md "The fast path") answers
 * exactly as Apollo Server's pipeline does: two routers in front of the same subgraphs, one with
 * ROUTER_FAST_PATH on and one with it off, get the same requests, and every answer must be the same
 * status, the same headers that carry meaning and the same body (stack traces aside: they name the
 * code that ran). The fast path's counter shows which requests it answered itself, so a case that
 * silently went to Apollo Server on both sides cannot pass as a fast-path case.
 */
import { sharedTestStack, startSecondRouter, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logInAs, type Account } from '../courses/router-clients.ts';

interface Exchange {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
}

/** The headers whose value a client may act on. */
const COMPARED_HEADERS = ['content-type', 'cache-control', 'retry-after'];

async function exchange(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Exchange> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  // The length sent is the body's, in bytes (a non-ASCII case below), on either path.
  expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
  let parsed: unknown = text;
  try {
    parsed = withoutStacktraces(JSON.parse(text));
  } catch {
    // not JSON: compared as text
  }
  const compared = Object.fromEntries(COMPARED_HEADERS.map((h) => [h, response.headers.get(h)]));
  // The same length on both sides, unless stack traces (which differ) are part of it.
  compared['content-length'] = text.includes('"stacktrace"') ? 'with a stack trace' : response.headers.get('content-length');
  return { status: response.status, headers: compared, body: parsed };
}

/** Stack traces differ by construction (different code answered); whether there is one must not. */
function withoutStacktraces(body: { errors?: { extensions?: Record<string, unknown> }[] }) {
  for (const error of body.errors ?? []) {
    if (error.extensions && 'stacktrace' in error.extensions) error.extensions.stacktrace = 'present';
  }
  return body;
}

const fastAnswers = async (routerUrl: string) => {
  const text = await (await fetch(routerUrl.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('campus_router_fast_path_answers_total'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
};

describe('fast path: the same answers as Apollo Server', () => {
  let stack: TestStack;
  let student: Account;
  const routers: { fast?: { url: string; stop(): Promise<void> }; apollo?: { url: string; stop(): Promise<void> } } = {};
  const capped: typeof routers = {};

  /** Sends the same request to both routers; returns both answers and whether the fast path answered it. */
  async function both(pair: typeof routers, body: unknown, headers: Record<string, string> = {}) {
    const before = await fastAnswers(pair.fast!.url);
    const fast = await exchange(pair.fast!.url, body, headers);
    const answeredFast = (await fastAnswers(pair.fast!.url)) - before;
    const apollo = await exchange(pair.apollo!.url, body, headers);
    expect(await fastAnswers(pair.apollo!.url)).toBe(0);
    return { fast, apollo, answeredFast };
  }

  beforeAll(async () => {
    stack = await sharedTestStack();
    student = await logInAs(stack.routerUrl, 'STUDENT');
    [routers.fast, routers.apollo, capped.fast, capped.apollo] = await Promise.all([
      startSecondRouter(stack, { ROUTER_FAST_PATH: 'true' }),
      startSecondRouter(stack, { ROUTER_FAST_PATH: 'false' }),
      // Small caps, to see the refusals the fast path must answer (or hand over) as Apollo Server does.
      startSecondRouter(stack, { ROUTER_FAST_PATH: 'true', LIMIT_MAX_RESPONSE_BYTES: '400', DEMAND_CONTROL_MAX_COST: '60' }),
      startSecondRouter(stack, { ROUTER_FAST_PATH: 'false', LIMIT_MAX_RESPONSE_BYTES: '400', DEMAND_CONTROL_MAX_COST: '60' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([routers.fast, routers.apollo, capped.fast, capped.apollo].map((r) => r?.stop()));
  });

  const CATALOG = 'query Catalog($first: Int!) { courses(first: $first) { totalCount edges { node { id slug title price { amount currency } instructor { name } } } } }';

  // [name, body, headers, answered by the fast path]
  const cases: [string, () => unknown, () => Record<string, string>, boolean][] = [
    ['an anonymous catalog page', () => ({ query: CATALOG, variables: { first: 3 } }), () => ({}), true],
    ['a signed-in query across subgraphs', () => ({ query: '{ me { id email enrollments(first: 2) { totalCount } } }' }), () => ({ authorization: `Bearer ${student.token}` }), true],
    ['a field the viewer may not read (partial data and FORBIDDEN)', () => ({ query: '{ courses(first: 1) { totalCount } users(first: 1) { totalCount } }' }), () => ({ authorization: `Bearer ${student.token}` }), true],
    ['the operation a name picks out of several', () => ({ query: `query A { courses(first: 1) { totalCount } } ${CATALOG}`, operationName: 'Catalog', variables: { first: 1 } }), () => ({}), true],
    ['a mutation refused by its subgraph', () => ({ query: 'mutation { enrollInFreeCourse(input: { courseId: "00000000-0000-4000-8000-000000000000" }) { enrollment { id } } }' }), () => ({ authorization: `Bearer ${student.token}` }), true],
    ['a variable of the wrong type (BAD_USER_INPUT, 400)', () => ({ query: CATALOG, variables: { first: 'three' } }), () => ({}), true],
    // The message repeats the value: characters of more than one byte in UTF-8 (the Content-Length counts bytes).
    ['a variable of the wrong type, in non-ASCII text', () => ({ query: CATALOG, variables: { first: 'drei – dreißig 三' } }), () => ({}), true],
    ['a required variable missing', () => ({ query: CATALOG }), () => ({}), true],
    ['Accept: application/graphql-response+json', () => ({ query: CATALOG, variables: { first: 1 } }), () => ({ accept: 'application/graphql-response+json' }), true],
    ['Accept: application/json; callbackSpec=1.0', () => ({ query: CATALOG, variables: { first: 1 } }), () => ({ accept: 'application/json; callbackSpec=1.0' }), true],
    // Over 1,000 characters: Express's res.send measures and writes such a body another way.
    ['an answer of more than 1,000 characters', () => ({ query: `query Big { courses(first: 12) { edges { node { id slug title description } } } }` }), () => ({}), true],
    ['Accept: text/html (406)', () => ({ query: CATALOG, variables: { first: 1 } }), () => ({ accept: 'text/html' }), false],
    ['an operation name the document lacks', () => ({ query: CATALOG, operationName: 'Nope', variables: { first: 1 } }), () => ({}), false],
    ['a document that does not validate', () => ({ query: '{ courses(first: 1) { nope } }' }), () => ({}), false],
    ['introspection', () => ({ query: '{ __schema { queryType { name } } }' }), () => ({}), false],
    ['a bad token (401)', () => ({ query: CATALOG, variables: { first: 1 } }), () => ({ authorization: 'Bearer not-a-token' }), false],
    ['a persisted-query id only', () => ({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }), () => ({}), false],
  ];

  for (const [name, body, headers, answeredFast] of cases) {
    it(name, async () => {
      // Twice: the first time prepares the operation, the second finds it prepared.
      for (let round = 0; round < 2; round++) {
        const result = await both(routers, body(), headers());
        expect(result.fast).toEqual(result.apollo);
        expect(result.answeredFast).toBe(answeredFast ? 1 : 0);
      }
    });
  }

  it('a response over the size cap is refused alike (RESPONSE_TOO_LARGE)', async () => {
    const result = await both(capped, { query: CATALOG, variables: { first: 3 } });
    expect(result.apollo.body).toMatchObject({ data: null, errors: [{ extensions: { code: 'RESPONSE_TOO_LARGE' } }] });
    expect(result.fast).toEqual(result.apollo);
    expect(result.answeredFast).toBe(1);
  });

  it('an operation over the cost limit is refused alike, and counted once', async () => {
    const expensive = { query: '{ courses(first: 50) { edges { node { lessons { title } instructor { name } } } } }' };
    const result = await both(capped, expensive);
    expect(result.apollo.body).toMatchObject({ errors: [{ extensions: { code: 'OPERATION_TOO_EXPENSIVE' } }] });
    expect(result.fast).toEqual(result.apollo);
    // Checked by the fast path, answered by Apollo Server's admission hook from the refusal it left.
    expect(result.answeredFast).toBe(0);
  });

});
