/**
 * Ended sessions, shared by every service that verifies access tokens (docs/identity/sessions.md).
 *
 * An access token names its login session in `sid`. When a session ends (logout, refresh-token
 * reuse, role change, password change, an admin revoking it), the users service records its id
 * here, and every verifier — the router and each subgraph — refuses tokens carrying it from the
 * next request on: the token verifier (viewer.ts) asks this store on every verification, never a
 * cache, so a privileged operation is always judged against the store as it is now.
 *
 *   store     Redis when REDIS_URL is set (every instance of every service sees one list); in
 *             process otherwise, which is only shared when every service runs in that process (the
 *             embedded default hands one store to all of them, packages/stack/src/stack.ts)
 *   lifetime  an entry lives as long as a token of that session could: the longest lifetime a
 *             verifier accepts (ACCESS_TOKEN_MAX_LIFETIME_SECONDS) plus clock skew; after that any
 *             such token has expired anyway, and the refresh token died with the session
 *   notices   each revocation is also announced (Redis pub/sub, or in process), so whoever holds
 *             something open for a session — the router's WebSockets — ends it at once instead of
 *             at the token's expiry; `createSessionWatch` re-checks the store every second in case
 *             a notice is lost (pub/sub is best effort)
 *
 * This module is the contract between the users service (which revokes) and every verifier (which
 * refuses): the reasons and the notice's shape are declared once, with a zod schema.
 */
import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { redisClass } from '../core/lazy-modules.ts';
import { z } from 'zod';
import { parseEnv, type Env } from '../core/config.ts';
import { ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/** Why a session ended. The users service's `SessionEventReason` (schema.graphql) names the same. */
export const SESSION_END_REASONS = ['LOGGED_OUT', 'REFRESH_TOKEN_REUSED', 'ROLE_CHANGED', 'PASSWORD_CHANGED', 'REVOKED_BY_ADMIN', 'ACCOUNT_ERASED'] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];
const sessionEndReason = z.enum(SESSION_END_REASONS);

/** What a revocation announces to every instance (the payload of the pub/sub message). */
export const sessionsRevokedNotice = z.object({
  sessionIds: z.array(z.string().min(1)).min(1),
  reason: sessionEndReason,
});
export type SessionsRevokedNotice = z.infer<typeof sessionsRevokedNotice>;

const REASON_TEXT: Record<SessionEndReason, string> = {
  LOGGED_OUT: 'it was logged out',
  REFRESH_TOKEN_REUSED: 'its refresh token was used twice, so it was ended in case it was stolen',
  ROLE_CHANGED: "the account's role changed",
  PASSWORD_CHANGED: "the account's password changed",
  REVOKED_BY_ADMIN: 'an admin ended it',
  ACCOUNT_ERASED: 'the account was erased at its owner\'s request',
};

const isReason = (value: string): value is SessionEndReason => (SESSION_END_REASONS as readonly string[]).includes(value);

/** The refusal of a token whose session ended; `extensions.sessionEnded` says why. */
export function sessionEnded(reason: string | undefined): GraphQLError {
  const why = reason && isReason(reason) ? ` because ${REASON_TEXT[reason]}` : '';
  return new GraphQLError(`This session has ended${why}. Log in again.`, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, ...(reason ? { sessionEnded: reason } : {}) },
  });
}

/**
 * Clock skew allowed between the users service and verifiers, on top of a token's lifetime, when
 * deciding how long a revocation must be remembered.
 */
export const REVOCATION_SKEW_SECONDS = 60;

export interface SessionRevocations {
  /** Records that these sessions ended and announces it. Resolves once every verifier would refuse them. */
  revoke(sessionIds: readonly string[], reason: SessionEndReason): Promise<void>;
  /**
   * Why the session ended (a SessionEndReason as recorded), or undefined while it is live. Asks
   * the store itself every time.
   */
  revokedReason(sessionId: string): Promise<string | undefined>;
  /** The ended ones among these sessions and why, in one round trip. */
  revokedAmong(sessionIds: readonly string[]): Promise<Map<string, string>>;
  /** Calls `listener` for every revocation any instance records from now on (best effort: see top). */
  onRevoked(listener: (notice: SessionsRevokedNotice) => void): () => void;
  /**
   * Resolves once `onRevoked` listeners registered so far hear every later revocation; rejects when
   * notices cannot be had (Redis unreachable).
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

// --- configuration ---------------------------------------------------------------------------

/** The variables every token verifier reads (spread into the router's and each service's schema). */
export const sessionEnv = {
  /**
   * The longest lifetime (exp - iat) an access token may claim; longer ones are refused. Also how
   * long a revocation is remembered. The users service's ACCESS_TOKEN_TTL_SECONDS must fit in it.
   */
  ACCESS_TOKEN_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3_600),
  /** Key and channel prefix of revocations on Redis, so deployments sharing one Redis keep apart. */
  REDIS_SESSIONS_PREFIX: z.string().optional(),
};

export interface SessionStoreConfig {
  /** Longest lifetime an access token may claim (seconds). */
  maxLifetimeSeconds: number;
  /** Revocations on Redis when set; in this process otherwise. */
  redisUrl: string | undefined;
  redisPrefix: string | undefined;
}

interface ParsedSessionEnv {
  ACCESS_TOKEN_MAX_LIFETIME_SECONDS: number;
  REDIS_SESSIONS_PREFIX?: string | undefined;
  REDIS_URL?: string | undefined;
}

export function sessionStoreConfig(e: ParsedSessionEnv): SessionStoreConfig {
  return { maxLifetimeSeconds: e.ACCESS_TOKEN_MAX_LIFETIME_SECONDS, redisUrl: e.REDIS_URL, redisPrefix: e.REDIS_SESSIONS_PREFIX };
}

/** For a launcher that reads no service's config (the embedded stack): the same variables, parsed alike. */
export function sessionStoreConfigFromEnv(env: Env): SessionStoreConfig {
  return sessionStoreConfig(parseEnv(z.object({ ...sessionEnv, REDIS_URL: z.url().optional() }), env));
}

export interface SessionRevocationsOptions {
  logger?: Logger;
  /**
   * A process of its own in production: without Redis its revocations stay in it, so say so. The
   * embedded stack (every service in one process, one store) leaves it off.
   */
  warnIfLocal?: boolean;
}

export function createSessionRevocations(config: SessionStoreConfig, options: SessionRevocationsOptions = {}): SessionRevocations {
  const ttlSeconds = config.maxLifetimeSeconds + REVOCATION_SKEW_SECONDS;
  if (!config.redisUrl) {
    if (options.warnIfLocal) {
      options.logger?.warn(
        'session revocations are kept in this process (no REDIS_URL): with services in separate processes, a session ended elsewhere is not refused here',
      );
    }
    return createMemorySessionRevocations({ ttlSeconds });
  }
  return createRedisSessionRevocations(config.redisUrl, {
    ttlSeconds,
    ...(config.redisPrefix ? { prefix: config.redisPrefix } : {}),
    onError: (err, context) => options.logger?.error({ err, context }, 'session revocations'),
  });
}

// --- in process ------------------------------------------------------------------------------

export function createMemorySessionRevocations({ ttlSeconds }: { ttlSeconds: number }): SessionRevocations {
  const entries = new Map<string, { reason: SessionEndReason; expiresAt: number }>();
  const listeners = new Set<(notice: SessionsRevokedNotice) => void>();
  let nextPurge = 0;
  const live = (sessionId: string, now = Date.now()) => {
    const entry = entries.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry.reason;
    entries.delete(sessionId);
    return undefined;
  };
  return {
    async revoke(sessionIds, reason) {
      const now = Date.now();
      // Expired entries are dropped as they are read and, at most once a minute, all at once.
      if (now >= nextPurge) {
        for (const [id, entry] of entries) if (entry.expiresAt <= now) entries.delete(id);
        nextPurge = now + 60_000;
      }
      for (const id of sessionIds) entries.set(id, { reason, expiresAt: now + ttlSeconds * 1000 });
      if (!sessionIds.length) return;
      const notice = { sessionIds: [...sessionIds], reason };
      for (const listener of listeners) listener(notice);
    },
    async revokedReason(sessionId) {
      return live(sessionId);
    },
    async revokedAmong(sessionIds) {
      const found = new Map<string, string>();
      for (const id of sessionIds) {
        const reason = live(id);
        if (reason) found.set(id, reason);
      }
      return found;
    },
    onRevoked(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    ready: async () => {},
    async close() {
      listeners.clear();
    },
  };
}

// --- Redis -----------------------------------------------------------------------------------

export interface RedisSessionRevocationsOptions {
  ttlSeconds: number;
  /** Prepended to keys and to the notice channel. */
  prefix?: string;
  onError?: (error: unknown, context: string) => void;
}

export function createRedisSessionRevocations(url: string, options: RedisSessionRevocationsOptions): SessionRevocations {
  const prefix = options.prefix ?? 'campus:sessions:';
  const onError = options.onError ?? (() => {});
  const key = (sessionId: string) => `${prefix}revoked:${sessionId}`;
  const channel = `${prefix}revoked`;
  // Verification waits on this connection: a bounded wait and a failure beat a request hanging on
  // a dead Redis. A failed lookup refuses the token (viewer.ts), it never lets it through.
  const commands = new (redisClass())(url, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
  commands.on('error', (e) => onError(e, 'redis commands'));
  // Only instances that listen (the router) open a subscriber connection.
  let subscriber: Redis | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  const listeners = new Set<(notice: SessionsRevokedNotice) => void>();

  const listen = () => {
    if (subscriber) return;
    // A SUBSCRIBE that cannot reach Redis fails fast instead of holding up a starting router;
    // the watch's periodic re-check stands in for notices until Redis is back.
    const connection = new (redisClass())(url, { maxRetriesPerRequest: 1 });
    subscriber = connection;
    connection.on('error', (e) => onError(e, 'redis subscriber'));
    connection.on('message', (_channel: string, message: string) => {
      let notice: SessionsRevokedNotice;
      try {
        notice = sessionsRevokedNotice.parse(JSON.parse(message));
      } catch (e) {
        onError(e, `malformed notice on ${channel}`);
        return;
      }
      for (const listener of listeners) listener(notice);
    });
    subscribed = connection.subscribe(channel).then(() => undefined);
    subscribed.catch((e) => onError(e, `subscribe ${channel}`));
  };

  return {
    async revoke(sessionIds, reason) {
      if (!sessionIds.length) return;
      // One transaction: every key is written before the notice goes out, so a listener that
      // re-checks the store on a notice finds them.
      const multi = commands.multi();
      for (const id of sessionIds) multi.set(key(id), reason, 'EX', options.ttlSeconds);
      multi.publish(channel, JSON.stringify({ sessionIds: [...sessionIds], reason } satisfies SessionsRevokedNotice));
      const results = await multi.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('Redis discarded the revocation');
    },
    async revokedReason(sessionId) {
      return (await commands.get(key(sessionId))) ?? undefined;
    },
    async revokedAmong(sessionIds) {
      const found = new Map<string, string>();
      if (!sessionIds.length) return found;
      const values = await commands.mget(...sessionIds.map(key));
      sessionIds.forEach((id, i) => {
        const reason = values[i];
        if (reason != null) found.set(id, reason);
      });
      return found;
    },
    onRevoked(listener) {
      listen();
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    ready: () => subscribed,
    async close() {
      listeners.clear();
      // QUIT would wait for a connection that never came; a client that is not connected just stops.
      const shut = async (client: Redis | undefined) => {
        if (client?.status === 'ready') await client.quit();
        else client?.disconnect();
      };
      await Promise.allSettled([shut(commands), shut(subscriber)]);
    },
  };
}

// --- watching sessions that something is held open for -----------------------------------------

export interface SessionWatch {
  /** Calls `onEnded` once when the session ends (notice, or the periodic re-check). Returns an unwatch. */
  watch(sessionId: string, onEnded: (reason: string) => void): () => void;
  close(): void;
}

export interface SessionWatchOptions {
  /**
   * How often the sessions being watched are looked up in the store, so a lost notice (pub/sub is
   * best effort) or a revocation that raced the watch still ends them within about this long.
   */
  recheckMs?: number;
  onError?: (error: unknown) => void;
}

/** Watches sessions for holders of long-lived things (WebSockets): notices first, a periodic re-check behind them. */
export function createSessionWatch(revocations: SessionRevocations, options: SessionWatchOptions = {}): SessionWatch {
  const watchers = new Map<string, Set<(reason: string) => void>>();
  const end = (sessionId: string, reason: string) => {
    const set = watchers.get(sessionId);
    if (!set) return;
    watchers.delete(sessionId);
    for (const onEnded of set) onEnded(reason);
  };
  const stopListening = revocations.onRevoked((notice) => {
    for (const id of notice.sessionIds) end(id, notice.reason);
  });
  let checking = false;
  const recheck = setInterval(async () => {
    if (checking || watchers.size === 0) return;
    checking = true;
    try {
      for (const [id, reason] of await revocations.revokedAmong([...watchers.keys()])) end(id, reason);
    } catch (e) {
      options.onError?.(e);
    } finally {
      checking = false;
    }
  }, options.recheckMs ?? 1_000);
  recheck.unref();
  return {
    watch(sessionId, onEnded) {
      let set = watchers.get(sessionId);
      if (!set) watchers.set(sessionId, (set = new Set()));
      const entry = (reason: string) => onEnded(reason);
      set.add(entry);
      return () => {
        const current = watchers.get(sessionId);
        if (!current?.delete(entry)) return;
        if (current.size === 0) watchers.delete(sessionId);
      };
    },
    close() {
      clearInterval(recheck);
      stopListening();
      watchers.clear();
    },
  };
}
