/**
 * The router in front of subgraphs that misbehave: one that never answers, one that stalls in the
 * middle of its answer, one that drops connections, one whose port is closed. Real servers and the
 * real router over HTTP; the misbehaviour is a switch in front of a plain @apollo/subgraph service.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expressMiddleware } from '@as-integrations/express5';
import type { Env } from '@campus/kit/core';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { graphql, waitFor } from '@campus/test-kit';
import express from 'express';
import { parse } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeTestSupergraph } from '@campus/stack/testing';
import { loadConfig } from '@campus/router/config';
import { createRouter } from '@campus/router/server';

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const productsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { products: [Product!]! }
  type Product @key(fields: "upc") { upc: ID! name: String! }
`;
const reviewsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { topReview: String }
  type Mutation { addReview(text: String!): String }
  type Product @key(fields: "upc") { upc: ID! reviewCount: Int }
`;
const inventorySdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { inStock: Int }
`;

/** A plain Federation 2 subgraph behind a real HTTP server. */
async function startSubgraph(sdl: string, resolvers: Record<string, any>, front?: express.RequestHandler) {
  const app = express();
  const httpServer = createServer(app);
  // Federated tracing is the gateway's business, and Apollo announces it on stdout otherwise.
  const apollo = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers }), plugins: [ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  app.use('/graphql', ...(front ? [front] : []), express.json(), expressMiddleware(apollo));
  const url = `${await listen(httpServer)}/graphql`;
  return {
    url,
    async stop() {
      // Requests the test left hanging on purpose would otherwise hold close() forever.
      httpServer.closeAllConnections();
      await apollo.stop();
      await new Promise((r) => httpServer.close(r));
    },
  };
}

type Behaviour = 'answer' | 'hang' | 'stall-body' | 'drop-next' | 'drop-all';

/** The reviews subgraph, whose behaviour the test switches and whose requests it counts. */
async function startReviews() {
  const control = { behaviour: 'answer' as Behaviour, hits: 0, abandoned: 0 };
  const front: express.RequestHandler = (req, res, next) => {
    control.hits++;
    switch (control.behaviour) {
      case 'hang':
        // Accepts the request and never answers, as a SIGSTOPped process would. Counts the
        // requests whose caller gave up and closed the connection.
        res.on('close', () => control.abandoned++);
        return;
      case 'stall-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":');
        return;
      case 'drop-next':
        control.behaviour = 'answer';
        req.socket.destroy();
        return;
      case 'drop-all':
        req.socket.destroy();
        return;
      default:
        next();
    }
  };
  const server = await startSubgraph(
    reviewsSdl,
    {
      Query: { topReview: () => 'Sturdy' },
      Mutation: { addReview: (_: unknown, { text }: { text: string }) => text },
      Product: { __resolveReference: ({ upc }: { upc: string }) => ({ upc, reviewCount: 3 }) },
    },
    front,
  );
  return { ...server, control };
}

/** An address where nothing listens any more: connections are refused. */
async function closedPortUrl() {
  const server = createServer();
  const url = await listen(server);
  await new Promise((r) => server.close(r));
  return `${url}/graphql`;
}

const hasLine = (lines: string[], match: (entry: Record<string, any>) => boolean) =>
  lines.some((line) => match(JSON.parse(line) as Record<string, any>));

let products: Awaited<ReturnType<typeof startSubgraph>>;
let reviews: Awaited<ReturnType<typeof startReviews>>;
let supergraphPath: string;

async function startRouter(env: Env) {
  const logLines: string[] = [];
  const config = loadConfig({
    // Production (some tests run in it) requires a configured key; these subgraphs check none.
    ROUTER_SIGNING_KEYS: generateServiceKeyPem(),
    SUPERGRAPH_PATH: supergraphPath,
    JWKS_URL: 'http://127.0.0.1:9/jwks.json',
    ...env,
  });
  const router = createRouter(config, { logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }) });
  const base = await listen(router.httpServer);
  await router.start();
  return { url: `${base}/graphql`, logLines, stop: () => router.stop() };
}

beforeAll(async () => {
  products = await startSubgraph(productsSdl, {
    Query: { products: () => [{ upc: '1', name: 'Table' }] },
  });
  reviews = await startReviews();
  supergraphPath = writeTestSupergraph('router-resilience', [
    { name: 'products', url: products.url, sdl: productsSdl },
    { name: 'reviews', url: reviews.url, sdl: reviewsSdl },
    { name: 'inventory', url: await closedPortUrl(), sdl: inventorySdl },
  ]);
});

afterAll(async () => {
  await reviews?.stop();
  await products?.stop();
});

describe('subgraph fetches: timeout, retry and circuit breaker', () => {
  const REVIEWS_TIMEOUT_MS = 500;
  let router: Awaited<ReturnType<typeof startRouter>>;

  beforeAll(async () => {
    router = await startRouter({
      // Production: the client must still see the subgraph's name and the code, not INTERNAL_SERVER_ERROR.
      NODE_ENV: 'production',
      SUBGRAPH_TIMEOUT_MS: '10000',
      SUBGRAPH_TIMEOUTS: `reviews=${REVIEWS_TIMEOUT_MS}`,
      SUBGRAPH_BREAKER_FAILURES: '3',
      SUBGRAPH_BREAKER_HALF_OPEN_MS: '1000',
    });
  });
  afterAll(() => router?.stop());

  beforeEach(async () => {
    // Each test starts with reviews answering and no consecutive failures on its breaker: an
    // answered fetch resets the count (and closes the breaker once its half-open delay is over).
    reviews.control.behaviour = 'answer';
    await waitFor(async () => (await graphql(router.url, '{ topReview }')).data?.topReview === 'Sturdy', 'reviews to answer through the router', 15_000);
    reviews.control.hits = 0;
    reviews.control.abandoned = 0;
  });

  it('answers with the other subgraphs’ data and SUBGRAPH_UNAVAILABLE naming a subgraph that never answers, at its timeout', async () => {
    reviews.control.behaviour = 'hang';
    const started = performance.now();
    const r = await graphql(router.url, '{ products { upc name } topReview }');
    // Not a timing assertion: only that the router did not wait for the subgraph (it used to wait 300 s).
    expect(performance.now() - started).toBeLessThan(5 * REVIEWS_TIMEOUT_MS);
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ products: [{ upc: '1', name: 'Table' }], topReview: null });
    expect(r.errors).toHaveLength(1);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews', reason: 'TIMEOUT' });
    expect(r.errors?.[0]?.message).toContain(`reviews subgraph did not answer within ${REVIEWS_TIMEOUT_MS} ms`);
    // A timed-out query is not retried: the subgraph may be slow rather than gone.
    expect(reviews.control.hits).toBe(1);
    // The fetch was aborted, not merely abandoned: the router closed its connection.
    await waitFor(() => reviews.control.abandoned === 1, 'the router to close the timed-out connection', 15_000);
    // Logged as the operational condition it is, not as an unexpected error with a stack.
    expect(hasLine(router.logLines, (l) => l.level === 40 && l.code === 'SUBGRAPH_UNAVAILABLE' && l.serviceName === 'reviews' && !('err' in l))).toBe(true);
    expect(hasLine(router.logLines, (l) => l.msg === 'unexpected error')).toBe(false);
  });

  it('times out a subgraph that sends its headers and then stalls in the middle of the body', async () => {
    reviews.control.behaviour = 'stall-body';
    const r = await graphql(router.url, '{ products { upc } topReview }');
    expect(r.data).toEqual({ products: [{ upc: '1' }], topReview: null });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews', reason: 'TIMEOUT' });
  });

  it('reports a subgraph whose port refuses connections as unavailable, naming it', async () => {
    const r = await graphql(router.url, '{ products { upc } inStock }');
    expect(r.data).toEqual({ products: [{ upc: '1' }], inStock: null });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'inventory', reason: 'CONNECTION_FAILED' });
    expect(r.errors?.[0]?.message).toContain('inventory subgraph refused the connection');
  });

  it('retries a query once when its connection is lost, and the client gets the full answer', async () => {
    reviews.control.behaviour = 'drop-next';
    const r = await graphql(router.url, '{ products { upc } topReview }');
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ products: [{ upc: '1' }], topReview: 'Sturdy' });
    expect(reviews.control.hits).toBe(2);
  });

  it('does not retry a mutation whose connection is lost: it may have run', async () => {
    reviews.control.behaviour = 'drop-next';
    const r = await graphql(router.url, 'mutation { addReview(text: "Wobbly") }');
    expect(r.data).toEqual({ addReview: null });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews', reason: 'CONNECTION_FAILED' });
    expect(r.errors?.[0]?.message).toContain('reviews subgraph closed the connection before answering');
    expect(reviews.control.hits).toBe(1);
  });

  it('stops calling a subgraph that keeps failing, fails fast without reaching it, and calls it again after the half-open delay', async () => {
    reviews.control.behaviour = 'drop-all';
    await waitFor(
      async () => (await graphql(router.url, '{ topReview }')).errors?.[0]?.extensions?.reason === 'CIRCUIT_OPEN',
      'the reviews breaker to open',
      15_000,
    );
    const hitsWhenOpened = reviews.control.hits;
    for (let i = 0; i < 5; i++) {
      const r = await graphql(router.url, '{ products { upc } topReview }');
      expect(r.data).toEqual({ products: [{ upc: '1' }], topReview: null });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews', reason: 'CIRCUIT_OPEN' });
    }
    expect(reviews.control.hits).toBe(hitsWhenOpened);
    expect(hasLine(router.logLines, (l) => l.level === 40 && l.serviceName === 'reviews' && /circuit breaker opened/.test(l.msg))).toBe(true);

    reviews.control.behaviour = 'answer';
    await waitFor(async () => (await graphql(router.url, '{ topReview }')).data?.topReview === 'Sturdy', 'the reviews breaker to close', 15_000);
    expect(reviews.control.hits).toBeGreaterThan(hitsWhenOpened);
    expect(hasLine(router.logLines, (l) => l.serviceName === 'reviews' && /circuit breaker closed/.test(l.msg))).toBe(true);
    const r = await graphql(router.url, '{ products { upc } topReview }');
    expect(r).toMatchObject({ data: { products: [{ upc: '1' }], topReview: 'Sturdy' } });
    expect(r.errors).toBeUndefined();
  });
});

describe('the request deadline', () => {
  const DEADLINE_MS = 700;
  let router: Awaited<ReturnType<typeof startRouter>>;

  beforeAll(async () => {
    router = await startRouter({
      // Subgraph timeouts far beyond the deadline: only the deadline can end these requests.
      SUBGRAPH_TIMEOUT_MS: '60000',
      ROUTER_REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      // One counted failure would open the breaker: shows that a deadline is not counted as one.
      SUBGRAPH_BREAKER_FAILURES: '1',
    });
  });
  afterAll(() => router?.stop());

  it('answers at the deadline with what arrived and GATEWAY_TIMEOUT naming the subgraph still missing', async () => {
    reviews.control.behaviour = 'hang';
    reviews.control.abandoned = 0;
    const started = performance.now();
    // products answers first; the plan then fetches reviewCount from reviews, which never answers.
    const r = await graphql(router.url, '{ products { upc name reviewCount } }');
    expect(performance.now() - started).toBeLessThan(5 * DEADLINE_MS);
    expect(r.data).toEqual({ products: [{ upc: '1', name: 'Table', reviewCount: null }] });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT', serviceName: 'reviews', deadlineMs: DEADLINE_MS });
    expect(r.errors?.[0]?.message).toContain(`deadline of ${DEADLINE_MS} ms`);
    await waitFor(() => reviews.control.abandoned === 1, 'the router to close the connection at the deadline', 15_000);
  });

  it('does not hold the deadline against the subgraph: its breaker stays closed', async () => {
    reviews.control.behaviour = 'hang';
    const late = await graphql(router.url, '{ topReview }');
    expect(late.errors?.[0]?.extensions?.code).toBe('GATEWAY_TIMEOUT');
    reviews.control.behaviour = 'answer';
    const r = await graphql(router.url, '{ products { upc reviewCount } topReview }');
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ products: [{ upc: '1', reviewCount: 3 }], topReview: 'Sturdy' });
  });
});
