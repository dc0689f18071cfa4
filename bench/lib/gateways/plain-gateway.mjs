// The reference of `npm run bench:gateways`: a plain @apollo/gateway on @apollo/server 5's
// startStandaloneServer, as the public gateways benchmark runs Apollo Gateway, over the same
// supergraph as the Campus router. No limits, no auth, no metrics, no tracing; the default
// RemoteGraphQLDataSource and its HTTP client. @apollo/gateway has no deduplication of identical
// in-flight subgraph fetches, so this is the "dedup off" reference and there is no "dedup on" row
// for it (variants.ts).
//
// Plain JavaScript run by `node` itself, like the router's production build (router/dist): no
// loader in the measured process, so start-up times compare.
//
//   SUPERGRAPH_PATH     the composed supergraph
//   PORT                where to listen (127.0.0.1)
//   PLAIN_GATEWAY_SIGN  "true" for workload (b): Campus subgraphs answer only requests signed by
//                       the router's key (packages/kit/src/subgraph/signed-requests.ts), so a
//                       gateway that does not sign gets nothing but 403s and the comparison would
//                       measure a missing feature. With it, each fetch carries the client's
//                       Authorization header and a signature made exactly as the router makes it
//                       (router/src/signed-data-source.ts: the kit's createRequestSigner, audience =
//                       the subgraph's name, over method, path, authorization and the exact body
//                       sent), with ROUTER_SIGNING_KEYS. The router also forwards the request id and
//                       the client's address (and signs the latter); the plain gateway does not.
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const env = process.env;
const supergraphSdl = readFileSync(env.SUPERGRAPH_PATH, 'utf8');
const port = Number(env.PORT ?? 4000);

let buildService;
if (env.PLAIN_GATEWAY_SIGN === 'true') {
  // The kit's compiled build (packages/kit/dist), as the router's production build loads it.
  const { createRequestSigner, ROUTER_ISSUER, splitPemBlocks } = await import('@campus/kit/identity');
  const { Headers } = await import('@campus/kit/core');
  const signer = createRequestSigner(ROUTER_ISSUER, splitPemBlocks(env.ROUTER_SIGNING_KEYS ?? ''));

  class SigningDataSource extends RemoteGraphQLDataSource {
    constructor(config) {
      super(config);
      const plainFetch = this.fetcher;
      const audience = config.name;
      // The default HTTP client, with the signature added over the exact body it sends.
      this.fetcher = (url, init) => {
        const headers = { ...init.headers };
        headers[Headers.serviceSignature] = signer.sign(audience, {
          method: init.method ?? 'POST',
          path: new URL(url).pathname,
          authorization: headers[Headers.authorization],
          body: init.body ?? '',
        });
        return plainFetch(url, { ...init, headers });
      };
    }

    willSendRequest({ request, context }) {
      if (context?.authorization) request.http?.headers.set(Headers.authorization, context.authorization);
    }
  }
  buildService = ({ name, url }) => new SigningDataSource({ name, url });
}

const gateway = new ApolloGateway({ supergraphSdl, ...(buildService ? { buildService } : {}) });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port, host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
process.stderr.write(`plain gateway at ${url}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
