/**
 * Identical subgraph fetches in flight merged into one (SUBGRAPH_DEDUP, router/src/subgraph-dedup.ts,
 * docs/edge/subgraph-fetches.md): real routers over HTTP in front of two plain @apollo/subgraph
 * services, which count the requests they receive and hold them until the test lets them through,
 * so that the clients' fetches overlap for as long as the test needs.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expressMiddleware } from '@as-integrations/express5';
import { createLogger, type Env } from '@campus/kit/core';
import { createMemorySessionRevocations, generateServiceKeyPem, localTokenVerifier } from '@campus/kit/identity';
import { createTokenMinter, graphql, waitFor, type GraphQLResponse } from '@campus/test-kit';
import express from 'express';
import { parse } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeTestSupergraph } from '@campus/stack/testing';
import { loadConfig } from '@campus/router/config';
import { createRouter } from '@campus/router/server';

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const productsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { products: [Product!]! viewer: String }
  type Mutation { touch: Int }
  type Product @key(fields: "upc") { upc: ID! name: String! }
`;
const reviewsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { reviewsReady: Boolean }
  type Product @key(fields: "upc") { upc: ID! reviewCount: Int }
`;

/** Products from products, then their review counts from reviews: a root fetch and an entity fetch. */
const CATALOG = '{ products { upc name reviewCount } }';
const CATALOG_ANSWER = {
  products: [
    { upc: '1', name: 'Table', reviewCount: 3 },
    { upc: '2', name: 'Chair', reviewCount: 5 },
  ],
};
/** The same with the viewer products sees, from the Authorization header the router forwards. */
const VIEWER_CATALOG = '{ viewer products { upc name reviewCount } }';
const N = 8;

/** The subject of a bearer token, read without verifying it (the router verified it). */
const subjectOf = (authorization: string | undefined) =>
  authorization ? (JSON.parse(Buffer.from(authorization.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub : null;

/**
 * A plain Federation 2 subgraph behind a real HTTP server, with a switch in front that counts
 * requests (and the Authorization each carried) and, while `hold` is on, keeps them until released.
 */
async function startSubgraph(sdl: string, resolvers: Record<string, any>) {
  const control = {
    hits: 0,
    authorizations: [] as (string | undefined)[],
    hold: false,
    held: [] as ((status?: number) => void)[],
    /** Lets the held requests through, or answers them all with `status` (and no GraphQL body). */
    release(status?: number) {
      control.hold = false;
      for (const go of control.held.splice(0)) go(status);
    },
    reset() {
      control.release();
      control.hits = 0;
      control.authorizations = [];
    },
  };
  const front: express.RequestHandler = (req, res, next) => {
    control.hits++;
    control.authorizations.push(req.headers.authorization);
    const go = (status?: number) => (status ? void res.status(status).type('text/plain').send('not serving') : next());
    if (control.hold) control.held.push(go);
    else go();
  };
  const app = express();
  const httpServer = createServer(app);
  // Federated tracing is the gateway's business, and Apollo announces it on stdout otherwise.
  const apollo = new ApolloServer<{ authorization?: string | undefined }>({
    schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  app.use('/graphql', front, express.json(), expressMiddleware(apollo, { context: async ({ req }) => ({ authorization: req.headers.authorization }) }));
  const url = `${await listen(httpServer)}/graphql`;
  return {
    url,
    control,
    async stop() {
      control.release();
      httpServer.closeAllConnections();
      await apollo.stop();
      await new Promise((r) => httpServer.close(r));
    },
  };
}

let products: Awaited<ReturnType<typeof startSubgraph>>;
let reviews: Awaited<ReturnType<typeof startSubgraph>>;
let supergraphPath: string;
let minter: Awaited<ReturnType<typeof createTokenMinter>>;
let touches = 0;

/** A router over the two subgraphs, verifying tokens against the test's minter, counting the GraphQL requests it receives. */
async function startRouter(env: Env) {
  const config = loadConfig({
    ROUTER_SIGNING_KEYS: generateServiceKeyPem(),
    SUPERGRAPH_PATH: supergraphPath,
    JWKS_URL: 'http://127.0.0.1:9/jwks.json',
    QUERY_PLAN_WARMUP: 'off',
    ...env,
  });
  const verifyToken = localTokenVerifier(minter.jwks, { revocations: createMemorySessionRevocations({ ttlSeconds: 900 }), maxLifetimeSeconds: 900 });
  const router = createRouter(config, { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent'), verifyToken });
  let received = 0;
  router.httpServer.on('request', (req: IncomingMessage) => {
    if (req.method === 'POST') received++;
  });
  const base = await listen(router.httpServer);
  await router.start();
  const url = `${base}/graphql`;
  // Plans cached before the clients come, so that they reach their fetches together.
  for (const query of [CATALOG, VIEWER_CATALOG]) expect((await graphql(url, query)).errors).toBeUndefined();
  return { url, received: () => received, stop: () => router.stop() };
}
type TestRouter = Awaited<ReturnType<typeof startRouter>>;

/**
 * Sends `requests` at once while products holds its requests, and lets products answer once
 * every client request is in the router and `fetches` have reached products. With merging on,
 * nothing signals that the other requests joined the fetch in flight: they are in the router
 * (same process, plans cached) and need a few milliseconds of its CPU to get there, given here
 * with room to spare. Resolves with the answers, in the order of `requests`.
 */
async function overlapping(router: TestRouter, requests: (() => Promise<GraphQLResponse>)[], fetches: number, answerWith?: number) {
  products.control.hold = true;
  const before = router.received();
  const answers = Promise.all(requests.map((send) => send()));
  await waitFor(() => router.received() - before >= requests.length && products.control.hits >= fetches, `${requests.length} requests in the router and ${fetches} fetch(es) at products`, 15_000);
  await new Promise((r) => setTimeout(r, 300));
  products.control.release(answerWith);
  return answers;
}

beforeAll(async () => {
  minter = await createTokenMinter();
  products = await startSubgraph(productsSdl, {
    Query: {
      products: () => [
        { upc: '1', name: 'Table' },
        { upc: '2', name: 'Chair' },
      ],
      viewer: (_: unknown, __: unknown, ctx: { authorization?: string }) => subjectOf(ctx.authorization),
    },
    Mutation: { touch: () => ++touches },
  });
  reviews = await startSubgraph(reviewsSdl, {
    Query: { reviewsReady: () => true },
    Product: { __resolveReference: ({ upc }: { upc: string }) => ({ upc, reviewCount: upc === '1' ? 3 : 5 }) },
  });
  supergraphPath = writeTestSupergraph('router-dedup', [
    { name: 'products', url: products.url, sdl: productsSdl },
    { name: 'reviews', url: reviews.url, sdl: reviewsSdl },
  ]);
});

afterAll(async () => {
  await reviews?.stop();
  await products?.stop();
});

beforeEach(() => {
  products.control.reset();
  reviews.control.reset();
});
// A failed test must not leave requests held for the next one.
afterEach(() => {
  products.control.release();
  reviews.control.release();
});

describe('merging on (the default)', () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startRouter({});
  });
  afterAll(() => router?.stop());

  it('sends one fetch per subgraph for N identical anonymous queries in flight, and every client gets the whole answer', async () => {
    const answers = await overlapping(router, Array.from({ length: N }, () => () => graphql(router.url, CATALOG)), 1);
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual(CATALOG_ANSWER);
    }
    expect(products.control.hits).toBe(1);
    // The entity fetches were identical too (the same representations, sent the moment products answered).
    expect(reviews.control.hits).toBe(1);
    expect(products.control.authorizations).toEqual([undefined]);
  });

  it('never merges the fetches of two viewers: one fetch per Authorization, each client answered as itself', async () => {
    const [alice, bob] = await Promise.all([minter.mint({ id: 'alice', role: 'STUDENT' }), minter.mint({ id: 'bob', role: 'STUDENT' })]);
    const tokens = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? alice : bob));
    const answers = await overlapping(router, tokens.map((token) => () => graphql(router.url, VIEWER_CATALOG, { token })), 2);
    answers.forEach((r, i) => {
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual({ viewer: i % 2 === 0 ? 'alice' : 'bob', ...CATALOG_ANSWER });
    });
    expect(products.control.hits).toBe(2);
    expect(new Set(products.control.authorizations)).toEqual(new Set([`Bearer ${alice}`, `Bearer ${bob}`]));
    expect(reviews.control.hits).toBe(2);
    expect(new Set(reviews.control.authorizations)).toEqual(new Set([`Bearer ${alice}`, `Bearer ${bob}`]));
  });

  it('never merges mutations: each is sent and runs', async () => {
    products.control.hold = true;
    const answers = Promise.all(Array.from({ length: N }, () => graphql(router.url, 'mutation { touch }')));
    // Deterministic: merged mutations would never make N requests.
    await waitFor(() => products.control.hits === N, `${N} mutation fetches at products`, 15_000);
    products.control.release();
    const touched = (await answers).map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data.touch as number;
    });
    expect(new Set(touched).size).toBe(N);
    expect(products.control.hits).toBe(N);
  });

  it('fails every waiter with the fetch’s error, and sends anew once it settled', async () => {
    const answers = await overlapping(router, Array.from({ length: N }, () => () => graphql(router.url, CATALOG)), 1, 503);
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.data).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'products', reason: 'UPSTREAM_STATUS' });
    }
    expect(products.control.hits).toBe(1);
    expect(reviews.control.hits).toBe(0);
    // Not a cache of the failure: the next request fetches again and gets the answer.
    const next = await graphql(router.url, CATALOG);
    expect(next.errors).toBeUndefined();
    expect(next.data).toEqual(CATALOG_ANSWER);
    expect(products.control.hits).toBe(2);
  });
});

describe('merging off (SUBGRAPH_DEDUP=false)', () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startRouter({ SUBGRAPH_DEDUP: 'false' });
  });
  afterAll(() => router?.stop());

  it('sends every fetch: N identical queries in flight make N fetches per subgraph', async () => {
    products.control.hold = true;
    const answers = Promise.all(Array.from({ length: N }, () => graphql(router.url, CATALOG)));
    await waitFor(() => products.control.hits === N, `${N} fetches at products`, 15_000);
    products.control.release();
    for (const r of await answers) {
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual(CATALOG_ANSWER);
    }
    expect(products.control.hits).toBe(N);
    expect(reviews.control.hits).toBe(N);
  });
});
