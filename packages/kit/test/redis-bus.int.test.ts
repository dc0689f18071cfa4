/** The Redis Streams bus against a real Redis (TEST_REDIS_URL); skipped without one. */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { domainEvent, type DeadLetter } from '../src/events/event-bus.ts';
import { createRedisEventBus } from '../src/events/redis-bus.ts';
import { eventBusContract } from './event-bus-contract.ts';

const url = process.env.TEST_REDIS_URL;

describe.skipIf(!url)('Redis Streams event bus', () => {
  const base = `campus-test-${randomBytes(4).toString('hex')}:events:`;
  let buses = 0;
  afterAll(async () => {
    const redis = new Redis(url!);
    const keys = await redis.keys(`${base}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  // A prefix per bus: each has its own streams and its own dead letters.
  eventBusContract((options) => createRedisEventBus(url!, { prefix: `${base}${buses++}:`, retryAfterMs: 100, blockMs: 100, ...options }));

  it('gives up on an entry that keeps coming back unacknowledged, without handing it out again', async () => {
    const prefix = `${base}orphan:`;
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const stream = prefix + type;
    const redis = new Redis(url!);
    const dead: DeadLetter[] = [];
    const bus = createRedisEventBus(url!, { prefix, retryAfterMs: 100, blockMs: 100, maxDeliveries: 3, onDeadLetter: (d) => dead.push(d) });
    try {
      // A consumer that took the entry four times and died each time while handling it.
      await redis.xgroup('CREATE', stream, 'crashy', '0', 'MKSTREAM');
      const event = domainEvent(type, { n: 1 });
      const id = (await redis.xadd(stream, '*', 'event', JSON.stringify(event)))!;
      await redis.xreadgroup('GROUP', 'crashy', 'ghost', 'STREAMS', stream, '>');
      await redis.xclaim(stream, 'crashy', 'ghost', 0, id, 'IDLE', 60_000, 'RETRYCOUNT', 4);

      const handled: string[] = [];
      await bus.consume('crashy', [type], async (e) => void handled.push(e.id));
      await vi.waitUntil(async () => (await bus.deadLetterCount()) === 1, { timeout: 10_000, interval: 20 }); // the reclaim
      const [letter] = await bus.deadLetters();
      expect(letter).toMatchObject({ event, group: 'crashy', deliveries: 4 });
      expect(letter!.error).toMatch(/not acknowledged after 4 deliveries/);
      expect(dead.map((d) => d.id)).toEqual([letter!.id]);
      expect(handled).toEqual([]);
      expect(await redis.xpending(stream, 'crashy')).toEqual([0, null, null, null]);
    } finally {
      await bus.close();
      await redis.quit();
    }
  });
});
