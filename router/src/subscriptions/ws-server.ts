/**
 * The router's WebSocket endpoint (graphql-ws, subscription-server.ts), loaded with the first
 * WebSocket upgrade rather than with the router: graphql-ws, ws and the subscription machinery
 * are about 4 % of the work of loading the router's modules (docs/performance.md, "The router's
 * start and memory"), and a router may serve no WebSocket for a long while after it starts, or ever. An upgrade that arrives while they load waits for them: Node holds the
 * socket's bytes until someone reads them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SubscriptionServer, SubscriptionServerOptions, SubscriptionStats } from './subscription-server.ts';

export type { SubscriptionServer, SubscriptionServerOptions, SubscriptionStats, WsOperationAnswer } from './subscription-server.ts';

const NOTHING_OPEN: SubscriptionStats = { connections: 0, subscriptions: 0, upstreamSockets: 0, upstreamSubscriptions: 0, backlogOverflows: 0 };

export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  let server: SubscriptionServer | undefined;
  let loading: Promise<SubscriptionServer> | undefined;
  let closed = false;
  const load = () => (loading ??= import('./subscription-server.ts').then((m) => (server = m.createSubscriptionServer(options))));
  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (server) return server.handleUpgrade(req, socket, head);
      load().then(
        (loaded) => (closed ? socket.destroy() : loaded.handleUpgrade(req, socket, head)),
        (err: unknown) => {
          options.logger.error({ err }, 'could not load the WebSocket server');
          socket.destroy();
        },
      );
    },
    stats: () => server?.stats() ?? { ...NOTHING_OPEN },
    close: async () => {
      closed = true;
      // A server that failed to load has nothing open (the failure was logged with the upgrade).
      await loading?.then((loaded) => loaded.close(), () => undefined);
    },
  };
}
