/**
 * The benchmark's subscribers run in a child process (subscriber-process.ts), apart from the
 * subgraphs: the benchmark process's heap then holds only the subgraph side of each subscription,
 * which is the baseline the router's heap per subscription is compared with. This is the parent's
 * handle on that process: one request, one reply, over IPC.
 */
import { fileURLToPath } from 'node:url';
import { forkChildRpc } from './child-rpc.ts';

export interface OpenRequest {
  /** GraphQL HTTP URL of the router or of a subgraph; the socket goes to its ws:// twin. */
  url: string;
  count: number;
  query: string;
  variables?: Record<string, unknown> | undefined;
  token?: string | undefined;
  /** The router's signing key (PEM) and the subgraph's name, when connecting to a subgraph directly: each upgrade is signed. */
  sign?: { routerKey: string; audience: string } | undefined;
}

/** Receipt times (clock.ts) of one event, one per subscriber, and how many carried errors. */
export interface Arrivals {
  at: number[];
  errors: number;
}

export type Request =
  | { type: 'open'; open: OpenRequest }
  | { type: 'arm'; event: number; timeoutMs: number }
  | { type: 'collect'; event: number }
  | { type: 'close'; events: number };

export interface Subscribers {
  open(request: OpenRequest): Promise<void>;
  /** Starts timing event `event` on every subscriber; call before the event is raised. */
  arm(event: number, timeoutMs: number): Promise<void>;
  /** Resolves once every subscriber has event `event`. */
  collect(event: number): Promise<Arrivals>;
  /** Closes every socket; resolves true if each subscriber received exactly `events` results. */
  close(events: number): Promise<boolean>;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./subscriber-process.ts', import.meta.url));

export function forkSubscribers(): Subscribers {
  const { child, request } = forkChildRpc<Request>(ENTRY, 'subscriber');
  return {
    open: (open) => request({ type: 'open', open }),
    arm: (event, timeoutMs) => request({ type: 'arm', event, timeoutMs }),
    collect: (event) => request({ type: 'collect', event }),
    close: (events) => request({ type: 'close', events }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}
