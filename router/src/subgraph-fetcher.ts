/**
 * The router's HTTP client for subgraph fetches: `node:http` (or `node:https`) over one keep-alive
 * agent per subgraph URL, buffering the whole answer before it resolves.
 *
 * Global `fetch` (undici) cost about a fifth of the router's CPU per request under the gateways
 * benchmark (docs/performance.md): a Request, Headers, a web stream for each body and several
 * AbortSignals per fetch. A subgraph fetch needs none of that: one POST of a string, one JSON
 * answer read whole. What it does need is kept here:
 *
 *   - one timer per exchange, headers and body both: when it fires the request is destroyed (its
 *     socket closed, not merely abandoned) and the caller's error is thrown at once
 *     (subgraph-resilience.ts chooses the delay and the error: the fetch's timeout or what is
 *     left of the request's deadline);
 *   - a cap on the answer's size, counted while it arrives, so a runaway subgraph cannot fill the
 *     router's memory;
 *   - socket errors keep Node's `code` (ECONNREFUSED, ECONNRESET, ...), which decide retries and
 *     the breaker (subgraph-resilience.ts); an answer cut off mid-body is an ECONNRESET too.
 *
 * The answer is shaped like the part of a fetch Response that RemoteGraphQLDataSource reads
 * (status, statusText, url, ok, headers.get, json, text), so its parseBody and errorFromResponse
 * work on it unchanged (signed-data-source.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

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
  /** Header names in lower case; content-length is added. */
  headers: OutgoingHttpHeaders;
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
  const https = target.protocol === 'https:';
  if (!https && target.protocol !== 'http:') throw new Error(`subgraph URL ${url}: only http: and https: are supported`);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS, scheduling: 'lifo' as const };
  const agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const send = https ? httpsRequest : httpRequest;
  const path = target.pathname + target.search;
  const requestOptions = {
    agent,
    protocol: target.protocol,
    hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
    port: target.port || (https ? 443 : 80),
    path,
    method: 'POST',
  };
  const limit = options.maxResponseBytes;

  function post({ headers, body, timeoutMs, expired }: SubgraphExchange): Promise<SubgraphResponse> {
    return new Promise<SubgraphResponse>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
        // Closes the socket: a half-read answer or a request still being answered cannot go back to the pool.
        req.destroy();
      };
      const req = send({ ...requestOptions, headers: { ...headers, 'content-length': Buffer.byteLength(body) } });
      const timer = setTimeout(() => fail(expired()), timeoutMs);
      req.once('error', fail);
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers['content-length']);
        if (declared > limit) return fail(new SubgraphResponseTooLarge(limit));
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) return fail(new SubgraphResponseTooLarge(limit));
          chunks.push(chunk);
        });
        res.once('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
          resolve(new SubgraphResponse(url, res.statusCode ?? 0, res.statusMessage ?? '', new SubgraphResponseHeaders(res.headers), text));
        });
        res.once('error', fail);
        // The connection closed before the body's end: as fetch reports it, the subgraph closed it.
        res.once('close', () => {
          if (!res.complete) fail(Object.assign(new Error('the subgraph closed the connection in the middle of its answer'), { code: 'ECONNRESET' }));
        });
      });
      req.end(body);
    });
  }

  return { url, path, post, close: () => agent.destroy() };
}
