/**
 * What the router does when a subgraph is slow or down (docs/edge/subgraph-fetches.md).
 *
 * Without this, @apollo/gateway waits for a subgraph as long as the TCP connection lives: one
 * stopped subgraph held every request that touched it for minutes, and each waiting request kept
 * its memory and a socket. Every fetch now runs under cockatiel policies kept per subgraph:
 *
 *   retry (queries only, connection errors only, once, jittered)
 *     -> circuit breaker (consecutive failures open it; it half-opens after a delay)
 *       -> timeout (headers and body; the fetch is aborted, not just abandoned)
 *
 * and under the request's deadline, which every fetch of one execution shares. A failed fetch
 * becomes a GraphQL error naming the subgraph; the gateway puts it in `errors` and still returns
 * what the other subgraphs answered.
 *
 * Retry and breaker are cockatiel's. The timeout and the deadline are not policies but one timer
 * per attempt, set by the HTTP client (subgraph-fetcher.ts) from the bounds each attempt is given
 * here: the fetch's timeout, or what is left of the request's deadline when that is sooner, and
 * the error to throw when it fires. (cockatiel's timeout policy, an AbortSignal per request for
 * the deadline, AbortSignal.any per fetch and an AsyncLocalStorage scope to carry the signal to
 * the fetcher cost several objects, listeners and a DOMException per fetch: docs/performance.md.)
 */
import type { Logger } from '@campus/kit/core';
import { BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, wrap, type IPolicy } from 'cockatiel';
import { GraphQLError, Kind, Lexer, Source, TokenKind, parse, type DocumentNode } from 'graphql';
import type { RouterConfig } from './config.ts';
import { SubgraphResponseTooLarge } from './subgraph-fetcher.ts';

export type SubgraphFetchConfig = RouterConfig['subgraphs'];

/** The subgraph did not answer in time, is refused by its open breaker, or could not be reached. */
export const SUBGRAPH_UNAVAILABLE = 'SUBGRAPH_UNAVAILABLE';
/** The request's deadline passed while a subgraph's answer was still missing. */
export const GATEWAY_TIMEOUT = 'GATEWAY_TIMEOUT';

/** `extensions.reason` of SUBGRAPH_UNAVAILABLE, so clients and dashboards need not parse messages. */
export type UnavailableReason = 'TIMEOUT' | 'CIRCUIT_OPEN' | 'CONNECTION_FAILED' | 'UPSTREAM_STATUS';

/**
 * Socket-level failures after which the request most likely never reached a resolver, or a
 * pooled keep-alive connection died under it. Only these are retried, and only for queries: a
 * mutation that timed out or lost its connection may have run, and running it twice could charge
 * a card twice.
 */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Every socket failure counts for the breaker (ENOTFOUND too), not only the retryable ones. */
const SYSCALL_ERRNO = /^E[A-Z]+$/;
const UNDICI_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Answers that mean "nobody is serving behind this address right now" (a proxy, or a draining subgraph). */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

const RETRY_INITIAL_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 1_000;

/** An attempt that did not have its whole answer within the subgraph's timeout. */
class FetchTimedOut extends Error {}
class DeadlineExceeded extends Error {}

const isTimeout = (e: unknown) => e instanceof FetchTimedOut;
const isCircuitOpen = (e: unknown) => e instanceof BrokenCircuitError;
const timedOut = () => new FetchTimedOut('subgraph fetch timed out');
const deadlinePassed = () => new DeadlineExceeded();

/**
 * What one attempt may take: `send` must have the subgraph's whole answer within `timeoutMs`, or
 * stop the exchange (close its connection) and throw `expired()`.
 */
export interface AttemptBounds {
  timeoutMs: number;
  expired: () => unknown;
}

export interface SubgraphCall {
  /** Whether a connection error may be retried: true for queries, false for mutations. */
  retryable: boolean;
  /**
   * The execution this fetch belongs to (the gateway's request context; one per HTTP request,
   * per graphql-ws operation and per subscription event). Fetches of one execution share one
   * deadline, counted from the first of them. None for the gateway's own schema loading.
   */
  execution?: object | undefined;
}

export interface SubgraphGuard {
  /**
   * Runs `send` (one HTTP exchange with the subgraph, body included) under the subgraph's
   * policies; `send` keeps to the bounds it is given (subgraph-fetcher.ts does).
   */
  run<T>(call: SubgraphCall, send: (bounds: AttemptBounds) => Promise<T>): Promise<T>;
  /**
   * Waits for a fetch another caller sent (subgraph-dedup.ts) within this call's deadline: the
   * waiter's request may have less of its deadline left than the sender's had. Sends nothing, so
   * neither the breaker nor the fetch counts see it.
   */
  follow<T>(call: SubgraphCall, pending: Promise<T>): Promise<T>;
}

/**
 * How one subgraph fetch ended, for the router's metrics (observability/metrics.ts): `ok` is an
 * HTTP exchange that completed (GraphQL errors in its body included: those are answers); the
 * others are the failures this file turns into SUBGRAPH_UNAVAILABLE or GATEWAY_TIMEOUT, and
 * `error` is anything else thrown (a 4xx or 500 answer).
 */
export type SubgraphFetchOutcome = 'ok' | 'error' | 'timeout' | 'breaker_open' | 'connection_failed' | 'upstream_unavailable' | 'deadline';

/** Told about every fetch and breaker change; the router's metrics implement it. */
export interface SubgraphFetchObserver {
  /** One fetch as the caller saw it (its retry included), and how long it took. */
  fetched(subgraph: string, outcome: SubgraphFetchOutcome, seconds: number): void;
  retried(subgraph: string): void;
  /** The breaker opened (true) or closed again (false); half-open counts as still open. */
  breakerChanged(subgraph: string, open: boolean): void;
  /** A query fetch not sent: it waited for an identical one in flight (subgraph-dedup.ts). */
  deduplicated?(subgraph: string): void;
}

export interface SubgraphResilience {
  /** One guard per subgraph name and URL: a supergraph reload that keeps the URL keeps the breaker's state. */
  forSubgraph(name: string, url: string | undefined): SubgraphGuard;
}

/**
 * One instance per router: the HTTP gateway and the subscription executor share it, so a subgraph
 * found dead by one fails fast for the other too.
 */
export function createSubgraphResilience(config: SubgraphFetchConfig, logger: Logger, observer?: SubgraphFetchObserver): SubgraphResilience {
  const guards = new Map<string, SubgraphGuard>();
  /** When each execution's deadline passes (performance.now() time), set by its first fetch. */
  const deadlines = new WeakMap<object, number>();
  const deadlineOf = (execution: object) => {
    let at = deadlines.get(execution);
    if (at === undefined) {
      at = performance.now() + config.requestDeadlineMs;
      deadlines.set(execution, at);
    }
    return at;
  };

  return {
    forSubgraph(name, url) {
      const key = `${name} ${url ?? ''}`;
      let guard = guards.get(key);
      if (!guard) {
        guard = createGuard(name, config, logger, deadlineOf, observer);
        guards.set(key, guard);
      }
      return guard;
    },
  };
}

function createGuard(
  serviceName: string,
  config: SubgraphFetchConfig,
  logger: Logger,
  deadlineOf: (execution: object) => number,
  observer: SubgraphFetchObserver | undefined,
): SubgraphGuard {
  const timeoutMs = config.timeoutsByName[serviceName] ?? config.timeoutMs;
  const log = logger.child({ serviceName });

  // Per attempt: the fetch's own timeout, or the rest of the request's deadline when that is sooner.
  const ownTimeout: AttemptBounds = { timeoutMs, expired: timedOut };
  const boundsOf = (deadline: number | undefined): AttemptBounds => {
    if (deadline === undefined) return ownTimeout;
    const left = deadline - performance.now();
    if (left <= 0) throw new DeadlineExceeded();
    return left < timeoutMs ? { timeoutMs: left, expired: deadlinePassed } : ownTimeout;
  };
  // Timeouts, unreachable subgraphs and 502/503/504 count; GraphQL errors, 4xx and other 5xx do
  // not: they are answers, often to one bad operation, and must not cut off everyone's queries.
  // A deadline abort is not the subgraph's fault either (the request's budget ran out).
  const breaker = circuitBreaker(
    handleWhen((e) => isTimeout(e) || connectionErrorCode(e) !== undefined || upstreamStatus(e) !== undefined),
    { halfOpenAfter: config.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(config.breakerFailures) },
  );
  breaker.onBreak(() => {
    log.warn({ threshold: config.breakerFailures, halfOpenAfterMs: config.breakerHalfOpenMs }, 'subgraph circuit breaker opened: failing its fetches fast');
    observer?.breakerChanged(serviceName, true);
  });
  breaker.onHalfOpen(() => log.info('subgraph circuit breaker half-open: trying one fetch'));
  breaker.onReset(() => {
    log.info('subgraph circuit breaker closed: the subgraph answers again');
    observer?.breakerChanged(serviceName, false);
  });
  // A closed breaker from the start, so the series exists before anything fails (alerts on absent series misfire).
  observer?.breakerChanged(serviceName, false);

  const retryOnce = retry(
    handleWhen((e) => RETRYABLE_CODES.has(connectionErrorCode(e) ?? '')),
    { maxAttempts: 1, backoff: new ExponentialBackoff({ initialDelay: RETRY_INITIAL_DELAY_MS, maxDelay: RETRY_MAX_DELAY_MS }) },
  );
  retryOnce.onRetry(({ delay }) => {
    log.debug({ delayMs: Math.round(delay) }, 'retrying a query fetch after a connection error');
    observer?.retried(serviceName);
  });

  const queries: IPolicy = wrap(retryOnce, breaker);
  const mutations: IPolicy = breaker;

  return {
    async run(call, send) {
      const deadline = call.execution ? deadlineOf(call.execution) : undefined;
      const started = performance.now();
      try {
        // A deadline passed before an attempt (the first, or the retry after its backoff) is
        // thrown inside the policies but is no failure of the subgraph: the breaker does not count it.
        const result = await (call.retryable ? queries : mutations).execute(() => send(boundsOf(deadline)));
        observer?.fetched(serviceName, 'ok', (performance.now() - started) / 1000);
        return result;
      } catch (error) {
        observer?.fetched(serviceName, fetchOutcome(error), (performance.now() - started) / 1000);
        throw toClientError(error, serviceName, { timeoutMs, config });
      }
    },
    async follow(call, pending) {
      if (!call.execution) return pending;
      const late = () => toClientError(new DeadlineExceeded(), serviceName, { timeoutMs, config });
      const left = deadlineOf(call.execution) - performance.now();
      if (left <= 0) throw late();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(late()), left);
      });
      try {
        return await Promise.race([pending, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function toClientError(error: unknown, serviceName: string, { timeoutMs, config }: { timeoutMs: number; config: SubgraphFetchConfig }): unknown {
  const missing = 'its fields are missing from this response';
  if (error instanceof DeadlineExceeded) {
    return new GraphQLError(
      `The request reached the router's deadline of ${config.requestDeadlineMs} ms before the ${serviceName} subgraph answered; ${missing}. Ask for less in one request, or try again later.`,
      { extensions: { code: GATEWAY_TIMEOUT, serviceName, deadlineMs: config.requestDeadlineMs } },
    );
  }
  const unavailable = (reason: UnavailableReason, why: string, retry: string) =>
    new GraphQLError(`The ${serviceName} subgraph ${why}; ${missing}. ${retry}`, {
      extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName, reason },
    });
  if (isCircuitOpen(error)) {
    const seconds = Math.ceil(config.breakerHalfOpenMs / 1000);
    return unavailable('CIRCUIT_OPEN', `kept failing, so the router stopped calling it for ${seconds} s (circuit breaker open)`, `Try again in ${seconds} s.`);
  }
  if (isTimeout(error)) {
    return unavailable('TIMEOUT', `did not answer within ${timeoutMs} ms`, 'Try again later.');
  }
  const code = connectionErrorCode(error);
  if (code) {
    const what = code === 'ECONNREFUSED' ? 'refused the connection' : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'closed the connection before answering' : `could not be reached (${code})`;
    return unavailable('CONNECTION_FAILED', what, 'Try again later.');
  }
  if (error instanceof SubgraphResponseTooLarge) {
    // An answer, if an outsized one (often to one operation): not counted against the subgraph's breaker.
    return new GraphQLError(`The ${serviceName} subgraph's answer was over ${error.limit} bytes; ${missing}. Ask for fewer items per page (first) or fewer fields.`, {
      extensions: { code: 'RESPONSE_TOO_LARGE', serviceName, limit: error.limit },
    });
  }
  const status = upstreamStatus(error);
  if (status) return unavailable('UPSTREAM_STATUS', `answered HTTP ${status} (not serving)`, 'Try again later.');
  return error;
}

function fetchOutcome(error: unknown): SubgraphFetchOutcome {
  if (error instanceof DeadlineExceeded) return 'deadline';
  if (isCircuitOpen(error)) return 'breaker_open';
  if (isTimeout(error)) return 'timeout';
  if (connectionErrorCode(error)) return 'connection_failed';
  if (upstreamStatus(error)) return 'upstream_unavailable';
  return 'error';
}

/** The socket error code under fetch's `TypeError: fetch failed` (undici puts it in `cause`). */
function connectionErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (SYSCALL_ERRNO.test(code) || UNDICI_SOCKET_CODES.has(code))) return code;
  }
  return undefined;
}

/** The status of a non-2xx answer as RemoteGraphQLDataSource reports it, when it means "not serving". */
function upstreamStatus(error: unknown): number | undefined {
  if (!(error instanceof GraphQLError)) return undefined;
  const status = (error.extensions.response as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && UNAVAILABLE_STATUSES.has(status) ? status : undefined;
}

/**
 * Whether a subgraph fetch is a query (safe to send twice). The planner's fetch documents start
 * with their operation, so the first token normally decides without parsing the whole document.
 */
export function isQueryOperation(query: string, document?: DocumentNode): boolean {
  try {
    if (!document) {
      const first = new Lexer(new Source(query)).advance();
      if (first.kind === TokenKind.BRACE_L) return true;
      if (first.kind === TokenKind.NAME && first.value !== 'fragment') return first.value === 'query';
      document = parse(query);
    }
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    return operation?.operation === 'query';
  } catch {
    // Unparseable: the subgraph will refuse it anyway; never retry what we cannot classify.
    return false;
  }
}
