/**
 * The router's HTTP client for subgraph fetches: undici's connection pool (`Pool.dispatch`), one
 * pool of keep-alive connections per subgraph URL, buffering the whole answer before it resolves.
 *
 * Global `fetch` (undici too) cost about a fifth of the router's CPU per request under the gateways
 * benchmark (docs/performance.md): a Request, Headers, a web stream for each body and several
 * AbortSignals per fetch. `node:http` cost half that and more than it needed: an agent, a
 * ClientRequest and an IncomingMessage stream with their listeners per exchange. A subgraph fetch
 * needs none of that: one POST of a string, one JSON answer read whole. undici's pool takes the
 * request and hands its answer to a handler, chunk by chunk, with nothing in between (about half
 * the client CPU per exchange of `node:http`'s, measured in docs/performance.md). What the fetch
 * does need is kept here:
 *
 *   - one timer per exchange, headers and body both: when it fires the exchange is aborted (its
 *     connection closed, not merely abandoned) and the caller's error is thrown at once
 *     (subgraph-resilience.ts chooses the delay and the error: the fetch's timeout or what is
 *     left of the request's deadline);
 *   - a cap on the answer's size, counted while it arrives, so a runaway subgraph cannot fill the
 *     router's memory;
 *   - socket errors keep Node's `code` (ECONNREFUSED, ...), which decide retries and the breaker
 *     (subgraph-resilience.ts); an answer cut off mid-body is an ECONNRESET, as `node:http` and
 *     fetch report it.
 *
 * undici loads with the first fetch, not with the router: it is not on the path to /ready.
 *
 * The answer is shaped like the part of a fetch Response that RemoteGraphQLDataSource reads
 * (status, statusText, url, ok, headers.get, json, text), so its parseBody and errorFromResponse
 * work on it unchanged (signed-data-source.ts).
 */
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { Dispatcher, Pool } from 'undici';

const require = createRequire(import.meta.url);
let undici: typeof import('undici') | undefined;
/** undici, loaded with the first subgraph fetch of the process. */
const loadUndici = () => (undici ??= require('undici') as typeof import('undici'));

/**
 * Sockets per subgraph and router process. Enough for every fetch of a busy router to have its
 * own; past it, fetches wait for a free socket (inside their timeout) instead of opening more
 * connections to a subgraph that is already slow.
 */
export const DEFAULT_MAX_SOCKETS = 256;

/** The subgraph's answer was larger than the client's cap; it was not read further. */
export class SubgraphResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the answer exceeded ${limit} bytes`);
    this.name = 'SubgraphResponseTooLarge';
  }
}

/** The headers of an answer, read as a fetch Response's are (case-insensitive, repeated values joined). */
export class SubgraphResponseHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

/** A complete answer: status, headers and the whole body. */
export class SubgraphResponse {
  readonly ok: boolean;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: SubgraphResponseHeaders,
    private readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  async text(): Promise<string> {
    return this.body;
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.body);
  }
}

export interface SubgraphExchange {
  /** Header names in lower case; content-length and host are added. */
  headers: Record<string, string>;
  body: string;
  /** The whole exchange, from sending to the last byte of the answer, must fit in this. */
  timeoutMs: number;
  /** The error thrown when it does not. */
  expired: () => unknown;
}

export interface SubgraphHttpClient {
  readonly url: string;
  /** The path and query the client posts to (what a request signature covers). */
  readonly path: string;
  post(exchange: SubgraphExchange): Promise<SubgraphResponse>;
  /** Closes the pooled sockets. */
  close(): void;
}

export interface SubgraphHttpClientOptions {
  maxSockets?: number;
  /** Largest answer body read, in bytes. */
  maxResponseBytes: number;
}

export function createSubgraphHttpClient(url: string, options: SubgraphHttpClientOptions): SubgraphHttpClient {
  const target = new URL(url);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error(`subgraph URL ${url}: only http: and https: are supported`);
  const path = target.pathname + target.search;
  const limit = options.maxResponseBytes;
  let pool: Pool | undefined;
  const poolNow = () => (pool ??= new (loadUndici().Pool)(target.origin, { connections: options.maxSockets ?? DEFAULT_MAX_SOCKETS }));

  function post({ headers, body, timeoutMs, expired }: SubgraphExchange): Promise<SubgraphResponse> {
    return new Promise<SubgraphResponse>((resolve, reject) => {
      let settled = false;
      let controller: Dispatcher.DispatchController | undefined;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
        // Closes the connection: a half-read answer or a request still being answered cannot go back to the pool.
        controller?.abort(error instanceof Error ? error : new Error(String(error)));
      };
      const timer = setTimeout(() => fail(expired()), timeoutMs);
      let status = 0;
      let statusText = '';
      let answerHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      poolNow().dispatch(
        { origin: target.origin, path, method: 'POST', headers, body },
        {
          onRequestStart(started) {
            // Failed while it waited for a connection (the timer): it is not sent at all.
            if (settled) return started.abort(new Error('the exchange ended before it was sent'));
            controller = started;
          },
          onResponseStart(_, statusCode, responseHeaders, statusMessage) {
            status = statusCode;
            statusText = statusMessage || STATUS_CODES[statusCode] || '';
            answerHeaders = responseHeaders as IncomingHttpHeaders;
            if (Number(answerHeaders['content-length']) > limit) fail(new SubgraphResponseTooLarge(limit));
          },
          onResponseData(_, chunk) {
            size += chunk.length;
            if (size > limit) return fail(new SubgraphResponseTooLarge(limit));
            chunks.push(chunk);
          },
          onResponseEnd() {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
            resolve(new SubgraphResponse(url, status, statusText, new SubgraphResponseHeaders(answerHeaders), text));
          },
          onResponseError(_, error) {
            fail(socketError(error));
          },
        },
      );
    });
  }

  return { url, path, post, close: () => void pool?.destroy().catch(() => {}) };
}

/**
 * undici's error for a connection that closed before the answer's end (UND_ERR_SOCKET) reported
 * as `node:http` and fetch's socket report it, ECONNRESET; the rest keep their codes.
 */
function socketError(error: Error): Error {
  const code = (error as { code?: unknown }).code;
  if (code !== 'UND_ERR_SOCKET') return error;
  return Object.assign(new Error('the subgraph closed the connection in the middle of its answer', { cause: error }), { code: 'ECONNRESET' });
}
