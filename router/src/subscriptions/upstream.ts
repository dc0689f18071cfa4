/**
 * The router's graphql-ws sockets to subgraphs, one per (subgraph URL, viewer scope), shared by
 * every upstream subscription of that scope (shared-subscriptions.ts decides which those are).
 *
 * A subgraph authorizes a subscription with the headers of the socket's upgrade request, so a
 * socket must carry exactly one viewer's credentials: the public scope's socket carries no
 * Authorization, no request id and no client address of anyone; a signed-in scope's carries its
 * token (the scope is that token) and the address of the client that opened it. Every upgrade,
 * reconnects included, is signed with the router's key (signed-websocket.ts).
 *
 * Sockets are lazy: opened by the first subscription of their scope and closed when the last one
 * completes, so after a supergraph reload the sockets to an old URL close with the last
 * subscription planned against it.
 */
import type { RequestSigner } from '@campus/kit/identity';
import { createClient, type Client, type ExecutionResult, type Sink, type SubscribePayload } from 'graphql-ws';
import { signedWebSocket, webSocketUrl, type ForwardedHeaders } from './signed-websocket.ts';

export interface UpstreamOptions {
  /** The router's signer: every upgrade to a subgraph carries its signature. */
  signer: RequestSigner;
  /**
   * Reconnect attempts after an abnormal close (a subgraph instance restarting); graphql-ws then
   * resubscribes everything on the new socket. After that the subscriptions end with an error.
   */
  retryAttempts: number;
  onSocketOpened(): void;
  onSocketClosed(): void;
}

/** Whose credentials an upstream socket and the rest of a plan run with. */
export interface ViewerScope {
  /** "public", or one per access token (a hash of it: keys end up in logs and heap dumps). */
  key: string;
  /** What goes to subgraphs: nothing for the public scope. */
  forward: ForwardedHeaders;
}

interface PooledClient {
  client: Client;
  subscriptions: number;
}

export class UpstreamPool {
  private readonly clients = new Map<string, PooledClient>();

  constructor(private readonly options: UpstreamOptions) {}

  /** Subscribes on `service`, the subgraph at `url`, as `scope`; the returned function completes it upstream (idempotent). */
  subscribe(service: string, url: string, scope: ViewerScope, payload: SubscribePayload, sink: Sink<ExecutionResult>): () => void {
    const key = `${url}\n${scope.key}`;
    let pooled = this.clients.get(key);
    if (!pooled) {
      pooled = { client: this.createClient(service, url, scope.forward), subscriptions: 0 };
      this.clients.set(key, pooled);
    }
    const entry = pooled;
    entry.subscriptions++;
    const complete = entry.client.subscribe(payload, sink);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      complete();
      if (--entry.subscriptions > 0) return;
      if (this.clients.get(key) === entry) this.clients.delete(key);
      void entry.client.dispose();
    };
  }

  /** Closes every upstream socket (the router is stopping). */
  async dispose(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.client.dispose()));
  }

  private createClient(service: string, url: string, forward: ForwardedHeaders): Client {
    const { signer, retryAttempts, onSocketOpened, onSocketClosed } = this.options;
    // `closed` also fires for a socket that never opened (a refused upgrade): count only opened ones.
    const open = new Set<unknown>();
    return createClient({
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
  }
}
