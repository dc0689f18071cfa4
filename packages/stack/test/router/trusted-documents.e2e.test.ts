/**
 * Trusted documents and automatic persisted queries through the real router, over HTTP and
 * graphql-ws, in front of the real subgraphs. The test stack's own router runs with the default
 * (TRUSTED_DOCUMENTS=off); routers in enforce mode (production) and log mode (development) are
 * started beside it on the same supergraph, with loggers whose lines the tests read.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connectWs, within, type WsConnection } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@campus/router/config';
import { parseManifest } from '@campus/router/edge/persisted-query-manifest';
import { createRouter, type Router } from '@campus/router/server';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const manifest = parseManifest(readFileSync(new URL('../../../../router/persisted-queries.json', import.meta.url), 'utf8'));
const listed = (name: string) => {
  const op = manifest.operations.find((o) => o.name === name);
  if (!op) throw new Error(`${name} is not in the shipped manifest`);
  return op;
};
const CATALOG = listed('Catalog');
const UNLISTED = '{ courses(first: 1) { totalCount } }';

interface Answer {
  status: number;
  contentType: string | null;
  data?: any;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

/** POSTs any GraphQL-over-HTTP body: text, APQ registration or id alone. */
async function post(url: string, body: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, contentType: res.headers.get('content-type'), ...((await res.json()) as object) };
}
const persisted = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  queryHash?: string;
  operationName?: string;
  err?: unknown;
  [key: string]: unknown;
}

/** A router beside the test stack's, on its supergraph and secret, with a logger the test reads. */
async function startRouter(stack: TestStack, env: Record<string, string>) {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const router: Router = createRouter(
    loadConfig({
      ROUTER_SIGNING_KEYS: stack.keys.router,
      SUPERGRAPH_PATH: stack.supergraphPath,
      JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      ...env,
    }),
    { logger },
  );
  await new Promise<void>((r) => router.httpServer.listen(0, '127.0.0.1', () => r()));
  await router.start();
  return { router, url: `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}/graphql`, lines };
}

/** One operation over graphql-ws with a raw subscribe payload: its result, or the errors it was refused with. */
function overWs(connection: WsConnection, payload: { query: string; extensions?: Record<string, unknown> }) {
  return within(
    new Promise<{ result?: FormattedExecutionResult; errors?: readonly GraphQLFormattedError[] }>((resolve) => {
      let result: FormattedExecutionResult | undefined;
      connection.client.subscribe(payload, {
        next: (r) => {
          result = r as FormattedExecutionResult;
        },
        error: (e) => resolve({ errors: Array.isArray(e) ? e : [e as GraphQLFormattedError] }),
        complete: () => resolve(result ? { result } : {}),
      });
    }),
    10_000,
    'the operation over graphql-ws',
  );
}

describe('trusted documents and persisted queries', () => {
  let stack: TestStack;
  let enforcing: Awaited<ReturnType<typeof startRouter>>;
  let logging: Awaited<ReturnType<typeof startRouter>>;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    stack = await sharedTestStack();
    enforcing = await startRouter(stack, { NODE_ENV: 'production', TRUSTED_DOCUMENTS: 'enforce' });
    logging = await startRouter(stack, { NODE_ENV: 'development', TRUSTED_DOCUMENTS: 'log' });
  });

  afterAll(async () => {
    for (const s of sockets) await s.close();
    await enforcing?.router.stop();
    await logging?.router.stop();
  });

  describe('automatic persisted queries (TRUSTED_DOCUMENTS=off)', () => {
    it('registers an operation under its hash, then runs it by the hash alone', async () => {
      const query = '{ courses(first: 2) { totalCount } }';
      const before = await post(stack.routerUrl, { extensions: persisted(sha256(query)) });
      expect(before.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');

      const registered = await post(stack.routerUrl, { query, extensions: persisted(sha256(query)) });
      expect(registered.errors).toBeUndefined();
      const hit = await post(stack.routerUrl, { extensions: persisted(sha256(query)) });
      expect(hit.status).toBe(200);
      expect(hit.data).toEqual(registered.data);
      expect(typeof hit.data.courses.totalCount).toBe('number');
    });

    it('answers a hash that is not the query\'s sha256 with PERSISTED_QUERY_HASH_MISMATCH and 400, not a 500', async () => {
      const r = await post(stack.routerUrl, { query: UNLISTED, extensions: persisted(sha256('something else')) });
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
      expect(r.errors?.[0]?.message).toMatch(/sha256/);
    });

    it('answers an unsupported persisted-query version with BAD_REQUEST and 400', async () => {
      const r = await post(stack.routerUrl, { query: UNLISTED, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(UNLISTED) } } });
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    });

    it('runs any operation, listed or not', async () => {
      const r = await post(stack.routerUrl, { query: UNLISTED });
      expect(r.errors).toBeUndefined();
      expect(typeof r.data.courses.totalCount).toBe('number');
    });
  });

  describe('TRUSTED_DOCUMENTS=enforce (production)', () => {
    it('runs a listed operation sent as its text', async () => {
      const r = await post(enforcing.url, { query: CATALOG.body });
      expect(r.errors).toBeUndefined();
      expect(r.data.courses.edges).toBeInstanceOf(Array);
    });

    it('runs a listed operation written with other whitespace, commas and comments, as README.md writes it', async () => {
      const readmeStyle = `# from the README\n${CATALOG.body.replace(/\n\s*/g, ' ').replace('isFree: false', 'isFree: false,')}`;
      expect(readmeStyle).not.toBe(CATALOG.body);
      const r = await post(enforcing.url, { query: readmeStyle });
      expect(r.errors).toBeUndefined();
      expect(r.data.courses).toBeDefined();
    });

    it('runs a listed operation sent by its manifest id alone', async () => {
      const r = await post(enforcing.url, { extensions: persisted(CATALOG.id) });
      expect(r.status).toBe(200);
      expect(r.errors).toBeUndefined();
      expect(r.data.courses.edges).toBeInstanceOf(Array);
    });

    it('refuses an unlisted operation with PERSISTED_QUERY_NOT_IN_LIST and 400, and logs it at info without a stack', async () => {
      const r = await post(enforcing.url, { query: UNLISTED });
      expect(r.status).toBe(400);
      expect(r.data).toBeUndefined();
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect(r.errors?.[0]?.message).toMatch(/persisted-query manifest/);
      const line = enforcing.lines.find((l) => l.code === 'PERSISTED_QUERY_NOT_IN_LIST');
      expect(line).toMatchObject({ level: 30, msg: 'client error' });
      expect(line?.err).toBeUndefined();
      expect(enforcing.lines.filter((l) => l.level >= 50)).toEqual([]);
    });

    it('refuses to register an unlisted operation as an automatic persisted query', async () => {
      const query = '{ courses(first: 3) { totalCount } }';
      const register = await post(enforcing.url, { query, extensions: persisted(sha256(query)) });
      expect(register.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      const byId = await post(enforcing.url, { extensions: persisted(sha256(query)) });
      expect(byId.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    });

    it('answers a wrong hash with PERSISTED_QUERY_HASH_MISMATCH in production too, not a masked internal error', async () => {
      const r = await post(enforcing.url, { query: CATALOG.body, extensions: persisted(sha256('not the catalog')) });
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    });

    it('applies the same list over graphql-ws: text and id-only run, anything else is refused', async () => {
      const socket = await connectWs(enforcing.url);
      sockets.push(socket);

      const byText = await overWs(socket, { query: CATALOG.body });
      expect(byText.errors).toBeUndefined();
      expect(byText.result?.data?.courses).toBeDefined();

      const byId = await overWs(socket, { query: '', extensions: persisted(CATALOG.id) });
      expect(byId.errors).toBeUndefined();
      expect(byId.result?.data).toEqual(byText.result?.data);

      const unlisted = await overWs(socket, { query: UNLISTED });
      expect(unlisted.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect(unlisted.errors?.[0]?.extensions?.http).toBeUndefined();

      const subscription = await overWs(socket, { query: 'subscription { courseUpdated(id: "c1") { title } }' });
      expect(subscription.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');

      const unknownId = await overWs(socket, { query: '', extensions: persisted(sha256(UNLISTED)) });
      expect(unknownId.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');

      const mismatch = await overWs(socket, { query: CATALOG.body, extensions: persisted(sha256('x')) });
      expect(mismatch.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    });
  });

  describe('TRUSTED_DOCUMENTS=log (development)', () => {
    it('runs an unlisted operation and reports it at warn, by hash and name, without its text', async () => {
      const query = 'query CountCourses { courses(first: 1) { totalCount } }';
      const r = await post(logging.url, { query });
      expect(r.errors).toBeUndefined();
      expect(typeof r.data.courses.totalCount).toBe('number');
      const line = logging.lines.find((l) => l.queryHash === sha256(query));
      expect(line).toMatchObject({ level: 40, code: 'PERSISTED_QUERY_NOT_IN_LIST', operationName: 'CountCourses', transport: 'http' });
      expect(JSON.stringify(line)).not.toContain('totalCount');
    });

    it('reports unlisted operations over graphql-ws too, and runs them', async () => {
      const socket = await connectWs(logging.url);
      sockets.push(socket);
      const query = 'query CountOverWs { courses(first: 1) { totalCount } }';
      const r = await overWs(socket, { query });
      expect(r.errors).toBeUndefined();
      expect(logging.lines.find((l) => l.queryHash === sha256(query))).toMatchObject({ level: 40, transport: 'ws' });
    });

    it('does not report listed operations', async () => {
      const r = await post(logging.url, { query: CATALOG.body });
      expect(r.errors).toBeUndefined();
      expect(logging.lines.some((l) => l.queryHash === sha256(CATALOG.body))).toBe(false);
    });
  });
});
