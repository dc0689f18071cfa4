/**
 * The response cache (docs/response-cache.md): whole answers to anonymous catalog queries, kept
 * for the max-age their subgraphs gave them and keyed on the catalog generation, so none is served
 * after a change to what it shows.
 *
 *   policy       Subgraphs compute each answer's policy from @cacheControl hints in their schemas
 *                and send it as Cache-Control; the router's data sources (signed-data-source.ts,
 *                Apollo's RemoteGraphQLDataSource) restrict the request's overall policy with each
 *                fetch's header, so the router's answer is PUBLIC with a max-age only when every
 *                fetch of its plan was.
 *   who          Only requests without Authorization are read from or written to the cache. What
 *                a signed-in viewer sees depends on them (drafts for instructors and admins, their
 *                enrollments), which no static hint can express; an anonymous answer is what every
 *                visitor sees. No sessionId hook: PRIVATE answers are never stored.
 *   freshness    The catalog generation (packages/kit/src/events/catalog-generation.ts) is read
 *                once per cacheable request, before anything is fetched, and is part of the key.
 *                Courses and users bump it after each commit that changes a catalog page, before
 *                their mutation answers: a page computed before the change is never looked up
 *                after it. The max-age bounds memory and any bump lost to a Redis outage.
 *   where        In Redis with REDIS_URL (shared by every router instance), in memory otherwise.
 *                Only where this router sees every bump: a generation shared in process (the
 *                embedded stack) or in Redis. Services in other processes without Redis have no
 *                generation the router can read: the cache is off.
 *
 * Clients are still told `Cache-Control: no-store`: a browser or CDN keeping an answer for its
 * max-age could not be told of a change, which is the staleness this cache avoids.
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { connectFailFastRedis, type Logger } from '@campus/kit/core';
import { createCatalogGeneration, type CatalogGeneration } from '@campus/kit/events';
import type { Redis } from 'ioredis';
import type { RouterContext } from '../context.ts';
import { RedisKeyValueCache } from './redis-key-value-cache.ts';

export interface ResponseCacheConfig {
  /** RESPONSE_CACHE: wanted; it still stays off where no shared generation can be read. */
  enabled: boolean;
  /** REDIS_URL: cached answers (and, unless one is given, the generation) in Redis. */
  redisUrl: string | undefined;
  /** RESPONSE_CACHE_REDIS_PREFIX. */
  prefix: string;
  /** Size bound of the in-memory store. */
  maxMemoryBytes: number;
}

/** How one query fared: served from cache, computed (and stored when cacheable), not eligible, or generation unreadable. */
export type ResponseCacheLookup = 'hit' | 'miss' | 'bypass' | 'unavailable';

export interface ResponseCache {
  /** Where answers are kept; `off` when disabled or when no shared generation is available. */
  readonly mode: 'memory' | 'redis' | 'off';
  plugins: ApolloServerPlugin<RouterContext>[];
  close(): Promise<void>;
}

export interface ResponseCacheDeps {
  logger: Logger;
  /** The generation shared with the services in this process (the embedded stack); absent, the router opens one in Redis with REDIS_URL. */
  generation?: CatalogGeneration | undefined;
  onLookup?: (result: ResponseCacheLookup) => void;
}

/** What the router tells clients, cache or not (see above). */
const noStoreForClients: ApolloServerPlugin<RouterContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};

/**
 * Apollo Server's cache-control plugin computes the overall policy (restricted by each subgraph
 * fetch) but writes no header: noStoreForClients does. Installed whether the cache is on or off,
 * since subgraphs now send max-ages the router must not pass on.
 */
const policyOnly = (): ApolloServerPlugin<RouterContext>[] => [ApolloServerPluginCacheControl({ calculateHttpHeaders: false }), noStoreForClients];

export function createResponseCache(config: ResponseCacheConfig, deps: ResponseCacheDeps): ResponseCache {
  const { logger } = deps;
  const off = (why?: string): ResponseCache => {
    if (why) logger.info(`response cache off: ${why}`);
    return { mode: 'off', plugins: policyOnly(), close: async () => {} };
  };
  if (!config.enabled) return off();
  const ownGeneration =
    deps.generation || !config.redisUrl ? undefined : createCatalogGeneration({ redisUrl: config.redisUrl, prefix: config.prefix, logger });
  const generation = deps.generation ?? ownGeneration;
  if (!generation) return off('no catalog generation this router can read (set REDIS_URL, or run the embedded stack)');

  let redis: Redis | undefined;
  let store: KeyValueCache<string>;
  if (config.redisUrl) {
    redis = connectFailFastRedis(config.redisUrl, {
      logger,
      whileDown: 'response cache: Redis unavailable; answering from the subgraphs until it is back',
      whenBack: 'response cache: Redis is back',
      commandTimeoutMs: 250,
    });
    store = new RedisKeyValueCache(redis, `${config.prefix}entries:`);
  } else {
    store = new InMemoryLRUCache<string>({ maxSize: config.maxMemoryBytes });
  }

  // Per request: the generation read for it, or why it is not cached. Keyed by the request
  // context, which Apollo Server hands every hook of one request.
  const lookups = new WeakMap<object, { generation?: string; result: ResponseCacheLookup }>();
  const stateOf = (rc: GraphQLRequestContext<RouterContext>) => lookups.get(rc);
  const anonymous = (rc: GraphQLRequestContext<RouterContext>) => !rc.contextValue.authorization && !rc.contextValue.viewer;

  const cachePlugin = responseCachePlugin<RouterContext>({
    cache: store,
    // Called once per query, before the lookup and before any fetch (the plugin keeps the key for the store).
    async extraCacheKeyData(rc) {
      if (!anonymous(rc)) {
        lookups.set(rc, { result: 'bypass' });
        return null;
      }
      try {
        const current = await generation.current();
        lookups.set(rc, { generation: current, result: 'miss' });
        return { catalogGeneration: current };
      } catch {
        lookups.set(rc, { result: 'unavailable' });
        return null;
      }
    },
    shouldReadFromCache: async (rc) => stateOf(rc)?.generation !== undefined,
    shouldWriteToCache: async (rc) => stateOf(rc)?.generation !== undefined && anonymous(rc),
  });

  const counting: ApolloServerPlugin<RouterContext> = {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          if (rc.operation?.operation !== 'query') return;
          // No state: refused or invalid before the cache was asked; not a lookup.
          const state = stateOf(rc);
          if (state) deps.onLookup?.(rc.metrics.responseCacheHit ? 'hit' : state.result);
        },
      };
    },
  };

  logger.info({ store: redis ? 'redis' : 'memory', generation: generation.store }, 'response cache on');
  return {
    mode: redis ? 'redis' : 'memory',
    plugins: [...policyOnly(), cachePlugin, counting],
    async close() {
      await ownGeneration?.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
