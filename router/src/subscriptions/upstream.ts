/**
 * The router's graphql-ws connections to subgraphs, for one client connection.
 *
 * One upstream socket per (client connection, subgraph URL), carrying every subscription that
 * client has on that subgraph. Not pooled across clients: a subgraph authorizes a subscription
 * with the token on the upgrade request, and two clients never share a token. Sockets are lazy:
 * opened by the first subscription and closed as soon as the last one completes, so a client that
 * unsubscribes everything holds nothing upstream, and after a supergraph reload the sockets to an
 * old URL close with the last subscription planned against it.
 */
import type { RequestSigner } from '@campus/kit/identity';
import { createClient, type Client, type ExecutionResult, type Sink, type SubscribePayload } from 'graphql-ws';
import { signedWebSocket, webSocketUrl, type ForwardedHeaders } from './signed-websocket.ts';

export interface UpstreamOptions {
  /** The router's signer: every upgrade to a subgraph carries its signature. */
  signer: RequestSigner;
  forward: ForwardedHeaders;
  /**
   * Reconnect attempts after an abnormal close (a subgraph instance restarting); graphql-ws then
   * resubscribes everything on the new socket. After that the subscriptions end with an error.
   */
  retryAttempts: number;
  onSocketOpened(): void;
  onSocketClosed(): void;
}

export class UpstreamConnections {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly options: UpstreamOptions) {}

  /** Subscribes on `service`, the subgraph at `url`; the returned function completes the subscription upstream. */
  subscribe(service: string, url: string, payload: SubscribePayload, sink: Sink<ExecutionResult>): () => void {
    return this.client(service, url).subscribe(payload, sink);
  }

  /** Closes every upstream socket (the client connection is gone). */
  async dispose(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.dispose()));
  }

  private client(service: string, url: string): Client {
    const existing = this.clients.get(url);
    if (existing) return existing;
    const { signer, forward, retryAttempts, onSocketOpened, onSocketClosed } = this.options;
    // `closed` also fires for a socket that never opened (a refused upgrade): count only opened ones.
    const open = new Set<unknown>();
    const client = createClient({
      url: webSocketUrl(url),
      webSocketImpl: signedWebSocket(signer, service, forward),
      lazy: true,
      lazyCloseTimeout: 0,
      retryAttempts,
      // The subgraph pings (ws-level) and ws answers by itself; no graphql-ws pings needed here.
      keepAlive: 0,
      on: {
        opened: (socket) => {
          open.add(socket);
          onSocketOpened();
        },
        closed: (event) => {
          if (open.delete((event as { target?: unknown }).target)) onSocketClosed();
        },
      },
    });
    this.clients.set(url, client);
    return client;
  }
}
