/**
 * The router on its own, in front of a subgraph that is not ours: it must serve any valid
 * Federation 2 supergraph, hot-reload it, report readiness, and serve Sandbox to browsers.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import express from 'express';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '@campus/router/compose';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';
import { pino } from 'pino';
import { graphql, waitFor } from '@campus/test-kit';

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** Waits until `check` passes (stops throwing) or the deadline hits: waiting on readiness, not sleeping. */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000) {
  await waitFor(async () => (await check(), true), 'the check to pass', { timeoutMs, intervalMs: 50 });
}

const productsSdl = (extraField: boolean) => `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { products: [Product!]! }
  type Product @key(fields: "upc") { upc: ID! name: String! ${extraField ? 'price: Int!' : ''} }
`;

/** A plain Federation 2 subgraph, not built with our kit and checking no signatures. */
async function startProductsSubgraph() {
  const app = express();
  const httpServer = createServer(app);
  const products = [{ upc: '1', name: 'Table', price: 899 }];
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(productsSdl(true)),
      resolvers: { Query: { products: () => products } },
    }),
    // Federated tracing is the gateway's business, and Apollo announces it on stdout otherwise.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  const url = await listen(httpServer);
  return { url: `${url}/graphql`, stop: () => apollo.stop().then(() => httpServer.close()) };
}

describe('router with a foreign supergraph', () => {
  let subgraph: Awaited<ReturnType<typeof startProductsSubgraph>>;
  let router: Router;
  let base: string;
  let supergraphPath: string;
  let started: Promise<void>;
  const logLines: string[] = [];

  beforeAll(async () => {
    subgraph = await startProductsSubgraph();
    supergraphPath = join(mkdtempSync(join(tmpdir(), 'router-')), 'supergraph.graphql');
    const config = loadConfig({
      SUPERGRAPH_PATH: supergraphPath,
      JWKS_URL: 'http://127.0.0.1:9/jwks.json',
      CORS_ORIGINS: 'https://app.campus.test',
    });
    router = createRouter(config, { logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }) });
    base = await listen(router.httpServer);
    started = router.start();
  });

  afterAll(async () => {
    await router.stop();
    await subgraph.stop();
  });

  it('is alive at once, and answers /ready with 503 until a supergraph is loaded, then 200 (docs/readiness.md)', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const waiting = await fetch(`${base}/ready`);
    expect(waiting.status).toBe(503);
    expect(((await waiting.json()) as any).checks.supergraph).toMatchObject({ status: 'down', error: 'waiting for a supergraph' });
    writeFileSync(supergraphPath, composeSupergraph([{ name: 'products', url: subgraph.url, sdl: productsSdl(false) }]));
    await started;
    // A probe's answer is reused for up to 500 ms (docs/readiness.md): the 503 above may still be served.
    const ready = await waitFor(async () => {
      const res = await fetch(`${base}/ready`);
      return res.status === 200 ? res : null;
    }, '/ready to answer 200');
    // A subgraph not built with our kit has no /health: that it answers at all is enough.
    expect(((await ready.json()) as any).checks.subgraphs.subgraphs.products).toMatchObject({ status: 'up', note: expect.stringContaining('404') });
  });

  it('serves a supergraph that is not ours, returning what the gateway returns', async () => {
    const r = await graphql(`${base}/graphql`, '{ products { upc name } }');
    expect(r.data).toEqual({ products: [{ upc: '1', name: 'Table' }] });
  });

  it('reloads the supergraph when the file changes, without a restart', async () => {
    expect((await graphql(`${base}/graphql`, '{ products { price } }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // Written the way editors and `npm run compose` do: a new file renamed over the old one.
    const tmp = `${supergraphPath}.tmp`;
    writeFileSync(tmp, composeSupergraph([{ name: 'products', url: subgraph.url, sdl: productsSdl(true) }]));
    renameSync(tmp, supergraphPath);
    await eventually(async () => {
      expect((await graphql(`${base}/graphql`, '{ products { price } }')).data).toEqual({ products: [{ price: 899 }] });
    });
  });

  it('keeps serving the previous supergraph when the new file is invalid', async () => {
    writeFileSync(supergraphPath, 'this is not a supergraph');
    await eventually(async () => expect(logLines.join('')).toContain('new supergraph refused'));
    expect((await graphql(`${base}/graphql`, '{ products { name } }')).data).toEqual({ products: [{ name: 'Table' }] });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });

  it.each(['/', '/graphql'])('serves Apollo Sandbox to browsers at %s', async (path) => {
    const res = await fetch(`${base}${path}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('embeddable-sandbox');
  });

  it('refuses a bad bearer token with UNAUTHENTICATED and HTTP 401', async () => {
    const r = await graphql(`${base}/graphql`, '{ products { upc } }', { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('prevents CSRF: a simple GET request without a preflight header is refused', async () => {
    const res = await fetch(`${base}/graphql?query=${encodeURIComponent('{ products { upc } }')}`);
    expect(res.status).toBe(400);
    const ok = await fetch(`${base}/graphql?query=${encodeURIComponent('{ products { upc } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(ok.status).toBe(200);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const allowed = await fetch(`${base}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.campus.test', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.campus.test');
    const other = await fetch(`${base}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
