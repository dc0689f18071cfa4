/**
 * Rate limits (docs/edge/rate-limits.md): how often one client address and one user may ask,
 * counted with rate-limiter-flexible in fixed windows, and plugged into the edge's admission
 * stages (edge/admission.ts), so HTTP and graphql-ws count in the same buckets.
 *
 *   general  source stage: every request (and WebSocket operation, and WebSocket upgrade) costs
 *            one point per client address and, when signed in, one per user; refused before the
 *            text is even parsed, which is what makes a flood cheap to turn away
 *   strict   operation stage: each selection of a strict root field (signUp, logIn, ...) costs
 *            one point, so 50 aliased `signUp` cost 50 and are refused as a whole, before any
 *            subgraph is called: nothing is written, no password is hashed
 *
 * Counters live in Redis when a URL is configured, so every router instance behind a load balancer
 * draws on one budget; in memory otherwise (the embedded default is one process). If Redis is
 * unreachable or slow, each instance counts in its own memory (rate-limiter-flexible's insurance
 * limiter) until it is back: limits stay roughly right (per instance) and the router neither refuses
 * everyone nor waits on a dead server.
 *
 * The WebSocket-only limits (connections per address, operations in flight and per second per
 * connection) are in edge/ws-rate-limits.ts.
 */
import { HeaderMap } from '@apollo/server';
import type { Logger } from '@campus/kit/core';
import { addressKey, connectFailFastRedis } from '@campus/kit/core';
import { GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { EdgeOperation, EdgeSource } from './admission.ts';

export interface RateLimitsConfig {
  enabled: boolean;
  /** Every request: per client address and per signed-in user, in one window. */
  general: { windowSeconds: number; perAddress: number; perUser: number };
  /** Root fields worth guessing at (passwords, refresh tokens, payments), each selection one point. */
  strict: { fields: string[]; windowSeconds: number; perAddress: number; perUser: number };
  websocket: { connectionsPerAddress: number; operationsInFlightPerConnection: number; operationsPerSecondPerConnection: number };
  /** Shared counters across router instances; absent = in memory. */
  redis: { url: string | undefined; prefix: string };
}

export const RATE_LIMITED = 'RATE_LIMITED';

/** Which limit refused, in `extensions.rateLimit`, so a client (or a log reader) can tell them apart. */
export type RateLimitName =
  | 'address'
  | 'user'
  | 'strictAddress'
  | 'strictUser'
  | 'wsConnectionsPerAddress'
  | 'wsOperationsInFlight'
  | 'wsOperationsPerSecond';

export interface RateLimitRefusal {
  rateLimit: RateLimitName;
  limit: number;
  windowSeconds?: number;
  /** Absent only where waiting does not help (operations in flight: finish one first). */
  retryAfterSeconds?: number;
  message: string;
}

/** The GraphQL error of a refusal; `extensions.http` gives HTTP its 429 and Retry-After. */
export function rateLimitedError(refusal: RateLimitRefusal, transport: 'http' | 'ws' = 'http'): GraphQLError {
  const { message, ...details } = refusal;
  const http =
    transport === 'http'
      ? {
          http: {
            status: 429,
            headers: new HeaderMap(refusal.retryAfterSeconds === undefined ? [] : [['retry-after', String(refusal.retryAfterSeconds)]]),
          },
        }
      : {};
  return new GraphQLError(message, { extensions: { code: RATE_LIMITED, ...details, ...http } });
}

/** Whole seconds, at least 1: `Retry-After: 0` would invite an immediate retry into the same window. */
export const retryAfterSeconds = (msBeforeNext: number) => Math.max(1, Math.ceil(msBeforeNext / 1000));

// The bucket of a client address (IPv6 per /64), shared with the users service's login throttling.
export { addressKey };

/** Selections of `fields` at the root of a mutation, through fragments, aliases included. */
export function countStrictFields(operation: OperationDefinitionNode, document: EdgeOperation['document'], fields: ReadonlySet<string>): number {
  if (operation.operation !== 'mutation') return 0;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const count = (set: SelectionSetNode, seen: Set<string>): number => {
    let n = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) n += fields.has(s.name.value) ? 1 : 0;
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet, seen);
      else if (!seen.has(s.name.value)) {
        // Spreading one fragment twice selects its fields once (graphql merges them); count once.
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) n += count(fragment.selectionSet, seen);
      }
    }
    return n;
  };
  return count(operation.selectionSet, new Set());
}

/** One counter family: Redis-backed with an in-memory stand-in, or memory only. */
export interface Bucket {
  points: number;
  windowSeconds: number;
  /** Consumes `points` from `key`'s budget; resolves with the refusal's wait (ms), or undefined when admitted. */
  take(key: string, points?: number): Promise<number | undefined>;
}

// How long router.start() waits for Redis before serving with in-memory counters.
const REDIS_STARTUP_WAIT_MS = 2_000;

function createBucket(name: string, points: number, windowSeconds: number, redis: { client: Redis; prefix: string } | undefined): Bucket {
  // Once a key is over its budget, further requests in the window are refused from memory without
  // a Redis round trip (inMemoryBlockOnConsumed): a flood costs Redis one command per window.
  const options = { points, duration: windowSeconds, keyPrefix: `${redis?.prefix ?? ''}${name}` };
  const memory = new RateLimiterMemory(options);
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        ...options,
        storeClient: redis.client,
        // Not connected: answer from the insurance limiter at once instead of queueing the command.
        rejectIfRedisNotReady: true,
        inMemoryBlockOnConsumed: points + 1,
        insuranceLimiter: memory,
      })
    : memory;
  return {
    points,
    windowSeconds,
    async take(key, n = 1) {
      try {
        await limiter.consume(key, n);
        return undefined;
      } catch (e) {
        if (e instanceof RateLimiterRes) return e.msBeforeNext;
        // Neither Redis nor the insurance limiter answered (should not happen: memory always does).
        // Failing open keeps the router serving; the other limits still apply.
        return undefined;
      }
    },
  };
}

export interface RateLimits {
  /** Source-stage check (general class): per address and per user, one point per request. */
  checkRequest(source: EdgeSource): Promise<void>;
  /** Operation-stage check (strict class): one point per strict root field selected. */
  checkStrictFields(operation: EdgeOperation): Promise<void>;
  /** One point of the general per-address budget, for a WebSocket upgrade; the refusal, if any. */
  takeConnectionAttempt(address: string | undefined): Promise<RateLimitRefusal | undefined>;
  config: RateLimitsConfig;
  /** Resolves when the counters' store is usable (Redis connected), or after a short wait. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createRateLimits(config: RateLimitsConfig, logger: Logger): RateLimits {
  const redis = config.enabled && config.redis.url ? connectFailFastRedis(config.redis.url, {
        logger,
        whileDown: 'rate limits: Redis unavailable; counting in this instance’s memory until it is back',
        whenBack: 'rate limits: Redis is back; counters are shared again',
      }) : undefined;
  const store = redis && { client: redis, prefix: config.redis.prefix };
  const { general, strict } = config;
  const perAddress = createBucket('address:', general.perAddress, general.windowSeconds, store);
  const perUser = createBucket('user:', general.perUser, general.windowSeconds, store);
  const strictAddress = createBucket('strict-address:', strict.perAddress, strict.windowSeconds, store);
  const strictUser = createBucket('strict-user:', strict.perUser, strict.windowSeconds, store);
  const strictFields = new Set(strict.fields);

  /** Takes from every bucket (so each counts the attempt); the longest wait of the refusing ones wins. */
  async function take(takes: [Bucket, string, RateLimitName][], points: number, what: string): Promise<void> {
    const waits = await Promise.all(takes.map(([bucket, key]) => bucket.take(key, points)));
    let refusal: RateLimitRefusal | undefined;
    waits.forEach((ms, i) => {
      if (ms === undefined) return;
      const [bucket, , name] = takes[i]!;
      const retry = retryAfterSeconds(ms);
      if (refusal && refusal.retryAfterSeconds! >= retry) return;
      const whose = name === 'user' || name === 'strictUser' ? 'this account' : 'this address';
      refusal = {
        rateLimit: name,
        limit: bucket.points,
        windowSeconds: bucket.windowSeconds,
        retryAfterSeconds: retry,
        message: `Too many ${what} from ${whose}: at most ${bucket.points} every ${bucket.windowSeconds} seconds. Retry in ${retry} seconds.`,
      };
    });
    if (refusal) throw rateLimitedError(refusal);
  }

  const keysOf = (context: EdgeSource['context']) => ({ address: addressKey(context.clientIp), user: context.viewer?.id });

  return {
    config,
    async checkRequest({ context }) {
      if (!config.enabled) return;
      const { address, user } = keysOf(context);
      await take([[perAddress, address, 'address'], ...(user ? [[perUser, user, 'user'] as [Bucket, string, RateLimitName]] : [])], 1, 'requests');
    },
    async checkStrictFields({ context, operation, document }) {
      if (!config.enabled || strictFields.size === 0) return;
      const n = countStrictFields(operation, document, strictFields);
      if (n === 0) return;
      const { address, user } = keysOf(context);
      await take([[strictAddress, address, 'strictAddress'], ...(user ? [[strictUser, user, 'strictUser'] as [Bucket, string, RateLimitName]] : [])], n, `attempts at ${[...strictFields].join(', ')}`);
    },
    async takeConnectionAttempt(address) {
      if (!config.enabled) return undefined;
      const ms = await perAddress.take(addressKey(address));
      if (ms === undefined) return undefined;
      const retry = retryAfterSeconds(ms);
      return {
        rateLimit: 'address',
        limit: perAddress.points,
        windowSeconds: perAddress.windowSeconds,
        retryAfterSeconds: retry,
        message: `Too many requests from this address: at most ${perAddress.points} every ${perAddress.windowSeconds} seconds. Retry in ${retry} seconds.`,
      };
    },
    async ready() {
      if (!redis || redis.status === 'ready') return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, REDIS_STARTUP_WAIT_MS);
        redis.once('ready', done);
      });
    },
    async close() {
      if (!redis) return;
      // QUIT needs a live connection; a router stopping during a Redis outage just drops it.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
