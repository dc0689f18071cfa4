/**
 * Entry point of workload (a)'s subgraph process (forked by subgraphs.ts): the four benchmark
 * subgraphs (benchmark-subgraphs.ts) on free ports of 127.0.0.1, each served as Campus serves a
 * subgraph (packages/kit/src/subgraph/subgraph-server.ts: express, the raw body kept for the
 * signature, Apollo Server through @as-integrations/express5), in one process apart from the
 * gateways so that the gateways' core is theirs alone.
 *
 * Signatures. Both gateways send their fetches to these same subgraphs (same process, same JIT
 * state, same data), but only the Campus router signs. A request that carries a signature header
 * is checked exactly as a Campus subgraph checks it (the kit's createRequestGate: Ed25519 through
 * jose, audience, body hash, replay store) and refused if it fails; a request without one is the
 * plain gateway's and is let through. So each gateway pays for what it does: the router for
 * signing, its subgraph fetches for being verified; the plain gateway for neither. With
 * BENCH_VERIFY=off nothing is verified (the router still signs), to see the router's own cost
 * apart from the subgraphs' verification on a machine where the subgraphs share a core with the
 * load generator.
 *
 * Every POST /graphql is counted per subgraph (signed and unsigned apart); the parent asks for the
 * counts over IPC ({ id, type: 'counts' }).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { createLogger, Headers } from '@campus/kit/core';
import { createRequestGate, type RawBodyRequest } from '@campus/kit/subgraph';
import express from 'express';
import { BENCHMARK_SUBGRAPHS, benchmarkSubgraphSchema, benchmarkSubgraphSdl, type BenchmarkSubgraph } from './benchmark-subgraphs.ts';

export interface SubgraphsReady {
  urls: Record<BenchmarkSubgraph, string>;
  sdl: Record<BenchmarkSubgraph, string>;
  /** An empty users JWKS: the router requires one (JWKS_URL), workload (a) sends no tokens. */
  jwksUrl: string;
}

export interface SubgraphCounts {
  /** Fetches per subgraph that carried a signature (the router's), and those that did not. */
  signed: Record<string, number>;
  unsigned: Record<string, number>;
  /** Fetches refused (a signature that failed verification): must stay 0. */
  refused: number;
}

const env = process.env;
const verify = (env.BENCH_VERIFY ?? 'signed') !== 'off';
const routerJwks = env.BENCH_ROUTER_JWKS;
if (!routerJwks) throw new Error('BENCH_ROUTER_JWKS (the router\'s public JWKS document) is required');
const logger = createLogger('bench-subgraphs', env.LOG_LEVEL ?? 'warn');

const counts: SubgraphCounts = { signed: {}, unsigned: {}, refused: 0 };
const servers: Server[] = [];
const closers: (() => Promise<void>)[] = [];

async function serve(name: BenchmarkSubgraph): Promise<string> {
  const schema = benchmarkSubgraphSchema(name);
  const gate = createRequestGate({ service: name, schema, identity: { routerJwks: routerJwks! }, logger });
  await gate.ready();
  const apollo = new ApolloServer({
    schema,
    csrfPrevention: true,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  if (name === 'accounts') app.get('/.well-known/jwks.json', (_req, res) => void res.json({ keys: [] }));
  app.use(
    '/graphql',
    express.json({
      limit: '1mb',
      verify: (req, _res, buf) => {
        (req as RawBodyRequest).rawBody = buf;
      },
    }),
    async (req, res, next) => {
      const signed = req.headers[Headers.serviceSignature] !== undefined;
      const bucket = signed ? counts.signed : counts.unsigned;
      bucket[name] = (bucket[name] ?? 0) + 1;
      if (!signed || !verify) return next();
      let passed = false;
      await gate.http(req as RawBodyRequest, res, (err?: unknown) => {
        passed = true;
        next(err);
      });
      if (!passed) counts.refused += 1;
    },
    expressMiddleware(apollo, { context: async () => ({}) }),
  );
  const server = createServer(app);
  // Up to 50 client connections fan out to many more subgraph fetches: never let keep-alive
  // sockets time out under the gateways between rounds.
  server.keepAliveTimeout = 120_000;
  servers.push(server);
  closers.push(async () => {
    await apollo.stop();
    await gate.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const urls = {} as Record<BenchmarkSubgraph, string>;
const sdl = {} as Record<BenchmarkSubgraph, string>;
for (const name of BENCHMARK_SUBGRAPHS) {
  urls[name] = await serve(name);
  sdl[name] = benchmarkSubgraphSdl(name);
}
const ready: SubgraphsReady = { urls, sdl, jwksUrl: new URL('/.well-known/jwks.json', urls.accounts).href };
process.send!({ ready });

process.on('message', (m: { id?: number; type?: string }) => {
  if (m.type === 'counts') process.send!({ id: m.id, value: structuredClone(counts) });
});

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(closers.map((c) => c()));
  process.exit(0);
}
process.once('SIGTERM', close);
process.on('disconnect', close);
