/**
 * The catalog generation (docs/response-cache.md): one number that every change to what anonymous
 * visitors see of the catalog bumps, after its commit and before the mutation answers. The router
 * folds it into the key of every cached response, so an answer computed before a change is never
 * looked up again after it: invalidation without knowing which cached pages a change touches.
 *
 * Where it lives decides who sees a bump:
 *   - in memory: only this process. Right for the embedded default (router and subgraphs share one
 *     object, packages/stack/src/stack.ts); useless to services in processes of their own.
 *   - in Redis (REDIS_URL): one key every process INCRs and the router GETs, so a change made
 *     through any service instance or router instance is seen by all of them.
 *
 * Reads fail fast (packages/kit/src/core/fail-fast-redis.ts): a router that cannot read the
 * generation serves without the cache rather than waiting. A bump that fails is retried in the
 * background until Redis takes it; meanwhile entries expire by their max-age (docs/response-cache.md).
 */
import { z } from 'zod';
import { connectFailFastRedis } from '../core/fail-fast-redis.ts';
import type { Logger } from '../core/logger.ts';

/** The variable every process that bumps or reads the generation reads (spread into its config schema). */
export const responseCacheEnv = {
  /** Redis key prefix of the response cache and its catalog generation, so deployments sharing one Redis keep apart. */
  RESPONSE_CACHE_REDIS_PREFIX: z.string().default('campus:response-cache:'),
};

export interface CatalogGeneration {
  /** Where bumps are seen: `memory` (this process only) or `redis` (every process on the same key). */
  readonly store: 'memory' | 'redis';
  /** The current generation; rejects when it cannot be read (then nothing may be served from cache). */
  current(): Promise<string>;
  /** Call after committing a change anonymous visitors would see; resolves once readers see the new value. */
  bump(): Promise<void>;
  close(): Promise<void>;
}

export interface CatalogGenerationOptions {
  /** Redis URL; absent = in memory. */
  redisUrl?: string | undefined;
  /** RESPONSE_CACHE_REDIS_PREFIX; the key is `<prefix>catalog-generation`. */
  prefix?: string | undefined;
  logger: Logger;
}

const DEFAULT_PREFIX = responseCacheEnv.RESPONSE_CACHE_REDIS_PREFIX.parse(undefined);
/** How long a bump waits for a connection that is still opening before it counts as failed. */
const CONNECT_WAIT_MS = 2_000;
const RETRY_MS = 1_000;

export function createCatalogGeneration({ redisUrl, prefix = DEFAULT_PREFIX, logger }: CatalogGenerationOptions): CatalogGeneration {
  if (!redisUrl) return memoryGeneration();
  const key = `${prefix}catalog-generation`;
  const redis = connectFailFastRedis(redisUrl, {
    logger,
    whileDown: 'catalog generation: Redis unavailable; the router serves without its response cache until it is back',
    whenBack: 'catalog generation: Redis is back',
    commandTimeoutMs: 1_000,
  });
  const connected = () =>
    redis.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            redis.off('ready', done);
            resolve();
          };
          const timer = setTimeout(done, CONNECT_WAIT_MS);
          redis.once('ready', done);
        });
  // Bumps that failed, owed to Redis: one INCR settles them all (readers only need "different").
  let owed = false;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  const settle = async (): Promise<void> => {
    retry = undefined;
    if (closed || !owed) return;
    try {
      await redis.incr(key);
      owed = false;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'catalog generation: bump not taken yet; retrying');
      retry = setTimeout(() => void settle(), RETRY_MS);
      retry.unref();
    }
  };
  return {
    store: 'redis',
    async current() {
      if (redis.status !== 'ready') throw new Error('catalog generation: Redis is not connected');
      return (await redis.get(key)) ?? '0';
    },
    async bump() {
      owed = true;
      await connected();
      if (!retry) await settle();
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function memoryGeneration(): CatalogGeneration {
  let generation = 0;
  return {
    store: 'memory',
    current: async () => String(generation),
    bump: async () => {
      generation += 1;
    },
    close: async () => {},
  };
}
