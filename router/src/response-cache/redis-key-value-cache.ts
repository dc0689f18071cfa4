/**
 * The response cache's store when REDIS_URL is set: every router instance reads and fills the same
 * entries. Over a fail-fast connection (packages/kit/src/core/fail-fast-redis.ts), as the rate
 * limits are: while Redis is slow or down a lookup is a miss and a store is dropped, so the router
 * answers from the subgraphs instead of waiting (Apollo's response-cache plugin would fail the
 * request on a rejected get).
 */
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Redis } from 'ioredis';

export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError: (err: unknown, operation: 'get' | 'set' | 'delete') => void = () => {},
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (err) {
      this.onError(err, 'get');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    try {
      // The plugin always gives the answer's max-age; an entry without one would never expire.
      const ttl = options?.ttl;
      if (ttl && ttl > 0) await this.redis.set(this.prefix + key, value, 'EX', Math.ceil(ttl));
    } catch (err) {
      this.onError(err, 'set');
    }
  }

  async delete(key: string): Promise<boolean | void> {
    try {
      return (await this.redis.del(this.prefix + key)) > 0;
    } catch (err) {
      this.onError(err, 'delete');
    }
  }
}
