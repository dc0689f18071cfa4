/**
 * Talking graphql-ws to the router (or, with signedUpgradeHeaders, to a subgraph) the way a live
 * UI does, for tests and the benchmark. Everything waits on a condition, never on a timer alone.
 */
import type { FormattedExecutionResult as ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { within } from './wait.ts';

export interface Subscription<T = any> {
  /** Every result received so far, in order. */
  results: ExecutionResult<T>[];
  /** Resolves with result number `n` (0-based) once it has arrived. */
  nth(n: number, timeoutMs?: number): Promise<ExecutionResult<T>>;
  /** Resolves when the server completes or fails the subscription. */
  ended: Promise<{ error?: unknown }>;
  readonly isEnded: boolean;
  /** Completes the subscription from the client's side. */
  unsubscribe(): void;
}

export interface WsConnection {
  client: Client;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>, operationName?: string): Subscription<T>;
  /** One query or mutation over the socket. */
  execute<T = any>(query: string, variables?: Record<string, unknown>): Promise<ExecutionResult<T>>;
  /** Resolves with the close code once the server closes the socket. */
  closed: Promise<number>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  token?: string | undefined;
  /** connection_init payload; by default `{ authorization: "Bearer <token>" }`. */
  connectionParams?: Record<string, unknown>;
  /** Headers on the upgrade request (e.g. a router signature, for a subgraph). */
  headers?: () => Record<string, string>;
}

export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws');

/** Connects and waits for connection_ack (or for the server to close the socket). */
export async function connectWs(httpUrl: string, options: ConnectOptions = {}): Promise<WsConnection> {
  const { headers } = options;
  const Impl = headers
    ? class extends WebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols, { headers: headers!() });
        }
      }
    : WebSocket;
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((r) => (resolveClosed = r));
  let resolveOpen!: (ok: boolean) => void;
  const open = new Promise<boolean>((r) => (resolveOpen = r));
  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: Impl,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.connectionParams ?? (options.token ? { authorization: `Bearer ${options.token}` } : {}),
    onNonLazyError: () => {},
    on: {
      connected: () => resolveOpen(true),
      closed: (event) => {
        resolveOpen(false);
        resolveClosed((event as { code: number }).code);
      },
    },
  });
  await within(open, 10_000, 'the WebSocket connection');

  return {
    client,
    closed,
    subscribe<T>(query: string, variables?: Record<string, unknown>, operationName?: string): Subscription<T> {
      const results: ExecutionResult<T>[] = [];
      const waiters: { n: number; resolve: (r: ExecutionResult<T>) => void }[] = [];
      let isEnded = false;
      let resolveEnded!: (v: { error?: unknown }) => void;
      const ended = new Promise<{ error?: unknown }>((r) => (resolveEnded = r));
      const finish = (v: { error?: unknown }) => {
        isEnded = true;
        resolveEnded(v);
      };
      const dispose = client.subscribe<T>(
        { query, variables: variables ?? {}, ...(operationName ? { operationName } : {}) },
        {
          next: (r) => {
            results.push(r as ExecutionResult<T>);
            for (const w of waiters.filter((w) => w.n < results.length)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(results[w.n]!);
            }
          },
          error: (error) => finish({ error }),
          complete: () => finish({}),
        },
      );
      return {
        results,
        ended,
        get isEnded() {
          return isEnded;
        },
        nth(n, timeoutMs = 10_000) {
          if (results[n]) return Promise.resolve(results[n]);
          return within(new Promise((resolve) => waiters.push({ n, resolve })), timeoutMs, `subscription result #${n}`);
        },
        unsubscribe: dispose,
      };
    },
    async execute<T>(query: string, variables?: Record<string, unknown>) {
      const iterator = client.iterate<T>({ query, variables: variables ?? {} });
      const { value } = await iterator.next();
      await iterator.return?.();
      return value as unknown as ExecutionResult<T>;
    },
    async close() {
      await client.dispose();
    },
  };
}
