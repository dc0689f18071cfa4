/**
 * The request ids a service has seen, so a captured signed request cannot be sent again while its
 * signature is still valid. Every instance of a service must see the same ids (a replay would
 * otherwise go to another instance behind the load balancer): Redis when REDIS_URL is set, this
 * process's memory otherwise (the embedded default runs one instance of each service).
 *
 * Ids are also always kept in memory, so during a Redis outage an instance still refuses what it
 * saw itself; only a replay sent to another instance during the outage gets through. Refusing
 * every request while Redis is down was the alternative: the router's rate limits made the same
 * choice (router/src/edge/rate-limits.ts).
 */
import { connectFailFastRedis } from '../core/fail-fast-redis.ts';
import type { Logger } from '../core/logger.ts';

export interface SeenRequestIds {
  /** True the first time `id` is offered (then remembered for `ttlMs`); false when it was seen. */
  firstSight(id: string, ttlMs: number): Promise<boolean>;
  /** Resolves once Redis is connected (or after a short wait); at once without Redis. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Ids are random UUIDs, so deployments (and test runs) sharing one Redis cannot collide. */
export const SEEN_REQUEST_IDS_PREFIX = 'campus:request-id:';
const REDIS_STARTUP_WAIT_MS = 2_000;
const SWEEP_INTERVAL_MS = 10_000;

export function createMemorySeenRequestIds(): SeenRequestIds & { has(id: string): boolean; remember(id: string, ttlMs: number): boolean } {
  const expiries = new Map<string, number>();
  let nextSweep = 0;
  const sweep = (now: number) => {
    if (now < nextSweep) return;
    nextSweep = now + SWEEP_INTERVAL_MS;
    for (const [id, expiresAt] of expiries) if (expiresAt <= now) expiries.delete(id);
  };
  const has = (id: string) => (expiries.get(id) ?? 0) > Date.now();
  const remember = (id: string, ttlMs: number) => {
    const now = Date.now();
    sweep(now);
    if (has(id)) return false;
    expiries.set(id, now + ttlMs);
    return true;
  };
  return {
    has,
    remember,
    firstSight: async (id, ttlMs) => remember(id, ttlMs),
    ready: async () => {},
    close: async () => {
      expiries.clear();
    },
  };
}

export function createSeenRequestIds({ redisUrl, logger }: { redisUrl?: string | undefined; logger: Logger }): SeenRequestIds {
  const memory = createMemorySeenRequestIds();
  if (!redisUrl) return memory;
  const redis = connectFailFastRedis(redisUrl, {
    logger,
    whileDown: 'request ids: Redis unavailable; replays are refused per instance until it is back',
    whenBack: 'request ids: Redis is back; ids are shared by every instance again',
  });
  return {
    async firstSight(id, ttlMs) {
      if (!memory.remember(id, ttlMs)) return false;
      try {
        return (await redis.set(`${SEEN_REQUEST_IDS_PREFIX}${id}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
      } catch {
        return true;
      }
    },
    async ready() {
      if (redis.status === 'ready') return;
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
      await memory.close();
      // QUIT needs a live connection; a service stopping during a Redis outage just drops it.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
