/** The Redis Streams bus against a real Redis (TEST_REDIS_URL); skipped without one. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { createRedisEventBus } from '../src/events/redis-bus.ts';
import { eventBusContract } from './event-bus-contract.ts';

const url = process.env.TEST_REDIS_URL;

describe.skipIf(!url)('Redis Streams event bus', () => {
  const prefix = `campus-test-${randomBytes(4).toString('hex')}:events:`;
  afterAll(async () => {
    const redis = new Redis(url!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  eventBusContract(() => createRedisEventBus(url!, { prefix, retryAfterMs: 100, blockMs: 100 }));
});
