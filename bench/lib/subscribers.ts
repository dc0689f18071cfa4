/**
 * The benchmark's subscribers run in a child process (subscriber-process.ts), apart from the
 * subgraphs: the benchmark process's heap then holds only the subgraph side of each subscription,
 * which is the baseline the router's heap per subscription is compared with. This is the parent's
 * handle on that process: one request, one reply, over IPC.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  const child = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(`subscriber process: ${m.error}`));
    else p?.resolve(m.value);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the subscriber process exited with ${code}`));
    pending.clear();
  });
  const request = <T>(r: Request) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, ...r });
    });
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
