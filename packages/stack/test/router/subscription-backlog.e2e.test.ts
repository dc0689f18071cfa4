/**
 * The bound on events waiting for the rest of a subscription's plan (router/src/subscriptions/
 * shared-subscriptions.ts, MAX_EVENTS_WAITING): behind a slow entity subgraph, events queue up to
 * the bound and past it the subscriptions sharing them end with SUBSCRIPTION_BACKLOG_FULL, so the
 * router's memory stays bounded. Real servers over real sockets: the real router, a subgraph that
 * streams ticks over graphql-ws, and a products subgraph whose answers the test holds back.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expressMiddleware } from '@as-integrations/express5';
import { createLogger } from '@campus/kit/core';
import { createPushIterator, type PushIterator } from '@campus/kit/events';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { connectWs, waitFor, within, type WsConnection } from '@campus/test-kit';
import express from 'express';
import { parse } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '@campus/router/compose';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';
import { MAX_EVENTS_WAITING } from '@campus/router/subscriptions/shared-subscriptions';

const ticksSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { ping: Boolean }
  type Subscription { ticks: Tick! }
  type Tick { n: Int! product: Product! }
  type Product @key(fields: "upc", resolvable: false) { upc: ID! }
`;
const productsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { products: [Product!]! }
  type Product @key(fields: "upc") { upc: ID! name: String! }
`;
const TICKS = 'subscription { ticks { n product { name } } }';

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** A Federation 2 subgraph over HTTP, and over graphql-ws on the same path when it has subscriptions. */
async function startSubgraph(sdl: string, resolvers: Record<string, any>, front?: express.RequestHandler) {
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers });
  const app = express();
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const ws = useServer({ schema }, wsServer);
  const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  app.use('/graphql', ...(front ? [front] : []), express.json(), expressMiddleware(apollo));
  const url = `${await listen(httpServer)}/graphql`;
  return {
    url,
    async stop() {
      await ws.dispose();
      // Requests the test held back on purpose would otherwise hold close() forever.
      httpServer.closeAllConnections();
      await apollo.stop();
      await new Promise((r) => httpServer.close(r));
    },
  };
}

describe('the bound on events waiting for a slow entity subgraph', () => {
  /** Live ticks subscriptions at the subgraph: what the router opened upstream. */
  const streams = new Set<PushIterator<{ ticks: { n: number; product: { upc: string } } }>>();
  let ticks: Awaited<ReturnType<typeof startSubgraph>>;
  let products: Awaited<ReturnType<typeof startSubgraph>>;
  /** While set, products' answers wait for it; `delayMs` slows every answer. */
  const hold = { gate: undefined as Promise<void> | undefined, open: () => {}, delayMs: 0, requests: 0 };
  let router: Router;
  let url: string;
  const sockets: WsConnection[] = [];

  const tick = (n: number) => {
    for (const s of streams) s.push({ ticks: { n, product: { upc: `p${n % 3}` } } });
  };

  beforeAll(async () => {
    ticks = await startSubgraph(ticksSdl, {
      Query: { ping: () => true },
      Subscription: {
        ticks: {
          subscribe: () => {
            const stream = createPushIterator<{ ticks: { n: number; product: { upc: string } } }>(() => streams.delete(stream));
            streams.add(stream);
            return stream.iterator;
          },
        },
      },
    });
    products = await startSubgraph(
      productsSdl,
      {
        Query: { products: () => [] },
        Product: { __resolveReference: ({ upc }: { upc: string }) => ({ upc, name: `Product ${upc}` }) },
      },
      (_req, _res, next) => {
        hold.requests++;
        const gate = hold.gate ?? Promise.resolve();
        void gate.then(() => setTimeout(next, hold.delayMs));
      },
    );
    const supergraphPath = join(mkdtempSync(join(tmpdir(), 'router-backlog-')), 'supergraph.graphql');
    writeFileSync(
      supergraphPath,
      composeSupergraph([
        { name: 'ticks', url: ticks.url, sdl: ticksSdl },
        { name: 'products', url: products.url, sdl: productsSdl },
      ]),
    );
    router = createRouter(
      loadConfig({
        NODE_ENV: 'test',
        // These subgraphs check no signature; the router signs anyway.
        ROUTER_SIGNING_KEYS: generateServiceKeyPem(),
        SUPERGRAPH_PATH: supergraphPath,
        JWKS_URL: 'http://127.0.0.1:9/jwks.json',
        // Held-back fetches must outlast the test, not time out into errors.
        SUBGRAPH_TIMEOUT_MS: '60000',
        RATE_LIMIT_ENABLED: 'false',
      }),
      { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent') },
    );
    url = `${await listen(router.httpServer)}/graphql`;
    await router.start();
  });
  afterAll(async () => {
    hold.open();
    for (const s of sockets) await s.close();
    await router?.stop();
    await ticks?.stop();
    await products?.stop();
  });

  const subscribers = async (n: number) => {
    const subs = [];
    for (let i = 0; i < n; i++) {
      const c = await connectWs(url);
      sockets.push(c);
      subs.push(c.subscribe(TICKS));
    }
    await waitFor(() => router.subscriptionStats().subscriptions === n && streams.size === 1, `${n} subscribers on one upstream ticks`);
    return subs;
  };

  it('delivers every event, in order, to every sharer while a slow subgraph keeps within the bound', async () => {
    hold.delayMs = 20;
    const subs = await subscribers(3);
    const requestsBefore = hold.requests;
    const EVENTS = 30;
    for (let n = 0; n < EVENTS; n++) tick(n);
    await Promise.all(subs.map((s) => s.nth(EVENTS - 1, 20_000)));
    for (const s of subs) {
      expect(s.results.map((r) => r.data?.ticks?.n)).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
      expect(s.results[4]).toEqual({ data: { ticks: { n: 4, product: { name: 'Product p1' } } } });
    }
    // The rest of the plan ran once per event for the three of them, not once per subscriber.
    expect(hold.requests - requestsBefore).toBe(EVENTS);
    for (const s of subs) s.unsubscribe();
    await waitFor(() => streams.size === 0 && router.subscriptionStats().upstreamSubscriptions === 0, 'the upstream subscription to close');
    hold.delayMs = 0;
  });

  it(`ends the sharers with SUBSCRIPTION_BACKLOG_FULL once more than ${MAX_EVENTS_WAITING} events wait, and closes the upstream subscription`, async () => {
    const overflowsBefore = router.subscriptionStats().backlogOverflows;
    const subs = await subscribers(2);
    hold.gate = new Promise<void>((r) => (hold.open = r));
    try {
      // The first event's fetch hangs; the next ones queue behind it, one past the bound.
      for (let n = 0; n <= MAX_EVENTS_WAITING; n++) tick(n);
      for (const s of subs) {
        await within(s.ended, 10_000, 'the subscription to end');
        expect(s.results).toHaveLength(1);
        expect(s.results[0]!.data ?? null).toBeNull();
        expect(s.results[0]!.errors?.[0]?.extensions?.code).toBe('SUBSCRIPTION_BACKLOG_FULL');
      }
      await waitFor(() => streams.size === 0, 'the upstream subscription to end at the subgraph');
      expect(router.subscriptionStats()).toMatchObject({ subscriptions: 0, upstreamSubscriptions: 0 });
      expect(router.subscriptionStats().backlogOverflows - overflowsBefore).toBe(2);
    } finally {
      hold.open();
      hold.gate = undefined;
    }
    // A new subscriber starts afresh, on a new upstream subscription.
    const [again] = await subscribers(1);
    tick(7);
    expect(await again!.nth(0, 10_000)).toEqual({ data: { ticks: { n: 7, product: { name: 'Product p1' } } } });
  });
});
