/**
 * Clean edges through the real router, in development and in production: bodies that are not
 * GraphQL requests are answered in JSON with a code and the right status (never Express's HTML
 * page with a stack), schema suggestions are hidden in production, limit refusals keep their own
 * codes, and client errors are logged at info without a stack.
 *
 * Nothing here reaches a subgraph (every request is refused before planning), so the routers run
 * on the supergraph the repository's subgraphs compose, without starting them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { connectWs, within, type WsConnection } from '@campus/test-kit';
import type { GraphQLFormattedError } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';

const root = new URL('../../../../', import.meta.url).pathname;
// Production requires a configured key; development would generate one.
const ROUTER_KEY = generateServiceKeyPem();

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  err?: unknown;
  stack?: unknown;
  [key: string]: unknown;
}

async function startRouter(supergraphPath: string, nodeEnv: 'development' | 'production') {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const router: Router = createRouter(
    loadConfig({ NODE_ENV: nodeEnv, ROUTER_SIGNING_KEYS: ROUTER_KEY, SUPERGRAPH_PATH: supergraphPath, JWKS_URL: 'http://127.0.0.1:9/jwks.json' }),
    { logger },
  );
  await new Promise<void>((r) => router.httpServer.listen(0, '127.0.0.1', () => r()));
  await router.start();
  return { router, url: `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}/graphql`, lines };
}

type Started = Awaited<ReturnType<typeof startRouter>>;

/** Sends a raw body and reads the answer as text first: an HTML page or a stack must show up as such. */
async function send(url: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
}

/** What no client should ever get back: HTML, a stack trace, a file path. */
function expectCleanJson(answer: { contentType: string; text: string }, code: string) {
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(answer.text).not.toMatch(/<html|<pre|<!DOCTYPE/i);
  expect(answer.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/work\/|stacktrace/);
  const body = JSON.parse(answer.text) as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.extensions.code).toBe(code);
  expect(body.errors[0]!.message.length).toBeGreaterThan(0);
  return body.errors[0]!;
}

const graphqlPost = (url: string, query: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) }).then(async (res) => ({
    status: res.status,
    ...((await res.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }),
  }));

function wsErrors(socket: WsConnection, query: string) {
  return within(
    new Promise<readonly GraphQLFormattedError[]>((resolve, reject) => {
      socket.client.subscribe({ query }, {
        next: () => {},
        error: (e) => resolve(Array.isArray(e) ? e : [e as GraphQLFormattedError]),
        complete: () => reject(new Error('expected the operation to be refused')),
      });
    }),
    10_000,
    'a refusal over graphql-ws',
  );
}

const TYPO = '{ me { emial } }';

describe('clean HTTP edges', () => {
  let development: Started;
  let production: Started;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    const supergraphPath = join(mkdtempSync(join(tmpdir(), 'http-edges-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composeSupergraph(readSupergraphConfig(join(root, 'supergraph.yaml'))));
    [development, production] = await Promise.all([startRouter(supergraphPath, 'development'), startRouter(supergraphPath, 'production')]);
  });

  afterAll(async () => {
    for (const s of sockets) await s.close();
    await development?.router.stop();
    await production?.router.stop();
  });

  describe.each(['development', 'production'] as const)('bodies that are not GraphQL requests (%s)', (mode) => {
    const started = () => (mode === 'development' ? development : production);

    it('answers malformed JSON with 400 BAD_REQUEST in JSON, without HTML or a stack', async () => {
      const answer = await send(started().url, '{"query": "{ me { id } }"', { 'content-type': 'application/json' });
      expect(answer.status).toBe(400);
      expect(expectCleanJson(answer, 'BAD_REQUEST').message).toMatch(/not valid JSON/);
    });

    it('answers a JSON body that is neither an object nor a list with 400 BAD_REQUEST', async () => {
      const answer = await send(started().url, '"{ me { id } }"', { 'content-type': 'application/json' });
      expect(answer.status).toBe(400);
      expectCleanJson(answer, 'BAD_REQUEST');
    });

    it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE, naming the limit', async () => {
      const answer = await send(started().url, JSON.stringify({ query: `{ me { id } }${' '.repeat(2 * 1024 * 1024)}` }), { 'content-type': 'application/json' });
      expect(answer.status).toBe(413);
      const error = expectCleanJson(answer, 'PAYLOAD_TOO_LARGE') as { extensions: { limitBytes?: number } };
      expect(error.extensions.limitBytes).toBe(1024 * 1024);
    });

    it('counts the limit after decompression: a small gzip body that inflates past it is 413 too', async () => {
      const inflated = JSON.stringify({ query: `{ me { id } }${' '.repeat(3 * 1024 * 1024)}` });
      const answer = await send(started().url, gzipSync(inflated), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(answer.status).toBe(413);
      expectCleanJson(answer, 'PAYLOAD_TOO_LARGE');
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=x'],
    ])('answers a POST of %s with 415 UNSUPPORTED_MEDIA_TYPE', async (_what, type) => {
      const answer = await send(started().url, '{"query":"{ me { id } }"}', { 'content-type': type });
      expect(answer.status).toBe(415);
      expect(expectCleanJson(answer, 'UNSUPPORTED_MEDIA_TYPE').message).toMatch(/application\/json/);
    });

    it('answers a POST body without a content type with 415', async () => {
      const answer = await send(started().url, new TextEncoder().encode('{"query":"{ me { id } }"}'));
      expect(answer.status).toBe(415);
      expectCleanJson(answer, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers a charset other than UTF-8 and an unknown Content-Encoding with 415', async () => {
      const charset = await send(started().url, '{"query":"{ me { id } }"}', { 'content-type': 'application/json; charset=latin1' });
      expect(charset.status).toBe(415);
      expectCleanJson(charset, 'UNSUPPORTED_MEDIA_TYPE');
      const encoding = await send(started().url, '{"query":"{ me { id } }"}', { 'content-type': 'application/json', 'content-encoding': 'compress' });
      expect(encoding.status).toBe(415);
      expectCleanJson(encoding, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('logs these refusals at info, without a stack, and nothing at error', async () => {
      const before = started().lines.length;
      await send(started().url, '{not json', { 'content-type': 'application/json' });
      await send(started().url, JSON.stringify({ query: 'x'.repeat(1024 * 1024) }), { 'content-type': 'application/json' });
      await send(started().url, '{}', { 'content-type': 'text/plain' });
      const refusals = started().lines.slice(before).filter((l) => l.msg === 'refused an HTTP request');
      expect(refusals.map((l) => l.code)).toEqual(['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);
      for (const line of refusals) {
        expect(line.level).toBe(30);
        expect(line.err).toBeUndefined();
      }
      expect(started().lines.filter((l) => l.level >= 50)).toEqual([]);
    });
  });

  describe('field suggestions', () => {
    it('are given in development, to help whoever writes the operation', async () => {
      const r = await graphqlPost(development.url, TYPO);
      expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.errors?.[0]?.message).toMatch(/Did you mean "email"\?/);
    });

    it('are absent in production over HTTP, the error otherwise the same', async () => {
      const r = await graphqlPost(production.url, TYPO);
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.errors?.[0]?.message).toBe('Cannot query field "emial" on type "User".');
    });

    it('are absent in production over graphql-ws, present in development', async () => {
      const [prodSocket, devSocket] = await Promise.all([connectWs(production.url), connectWs(development.url)]);
      sockets.push(prodSocket, devSocket);
      const prod = await wsErrors(prodSocket, TYPO);
      expect(prod[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(prod[0]?.message).toBe('Cannot query field "emial" on type "User".');
      expect((await wsErrors(devSocket, TYPO))[0]?.message).toMatch(/Did you mean "email"\?/);
    });

    it('are absent in production from enum values in variables too', async () => {
      const res = await fetch(production.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query ($o: CourseOrder) { courses(first: 1, orderBy: $o) { totalCount } }', variables: { o: 'POPULARTY' } }),
      });
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
      expect(body.errors[0]!.message).not.toMatch(/Did you mean/);
    });
  });

  describe('client errors in production', () => {
    it('keep the code of the limit that refused them, not GRAPHQL_VALIDATION_FAILED', async () => {
      const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: id`).join(' ');
      const r = await graphqlPost(production.url, `{ me { ${aliases} } }`);
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
    });

    it('are logged at info without a stack, with their code; nothing is logged at error', async () => {
      const before = production.lines.length;
      await graphqlPost(production.url, TYPO);
      await graphqlPost(production.url, '{ me { id ');
      const logged = production.lines.slice(before).filter((l) => l.code);
      expect(logged.map((l) => [l.level, l.code])).toEqual([
        [30, 'GRAPHQL_VALIDATION_FAILED'],
        [30, 'GRAPHQL_PARSE_FAILED'],
      ]);
      for (const line of logged) expect(line.err).toBeUndefined();
      expect(production.lines.filter((l) => l.level >= 50)).toEqual([]);
    });
  });
});
