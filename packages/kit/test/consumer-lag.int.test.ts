/**
 * `EventBus.consumerLag(group)` and `campus_event_consumer_lag{group}`, on both buses: what a
 * group has not handled yet grows while its consumer is stopped, counts an event whose handler
 * keeps failing, and drains once the consumer is back. Redis runs with TEST_REDIS_URL only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from '../src/core/metrics.ts';
import { watchConsumerLag } from '../src/events/delivery-metrics.ts';
import { domainEvent, type EventBus } from '../src/events/event-bus.ts';
import { createMemoryEventBus } from '../src/events/memory-bus.ts';
import { createRedisEventBus } from '../src/events/redis-bus.ts';

const redisUrl = process.env.TEST_REDIS_URL;
const redisPrefix = `campus-test-${randomBytes(4).toString('hex')}:lag:`;

afterAll(async () => {
  if (!redisUrl) return;
  // Only this file's keys: the Redis is shared.
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const buses: [string, (() => EventBus) | undefined][] = [
  ['in-memory bus', () => createMemoryEventBus({ retryDelayMs: () => 60_000 })],
  ['Redis Streams bus', redisUrl ? () => createRedisEventBus(redisUrl, { prefix: redisPrefix, retryAfterMs: 60_000, blockMs: 100 }) : undefined],
];

const lagLine = (text: string, group: string) =>
  text.split('\n').find((line) => line.startsWith('campus_event_consumer_lag{') && line.includes(`group="${group}"`));

describe.each(buses)('consumer lag on the %s', (_name, open) => {
  it.skipIf(!open)('grows while the group is stopped and drains when it consumes again', async () => {
    const bus = open!();
    const type = `Lagged${randomUUID().slice(0, 8)}`;
    const group = `lagging-${randomUUID().slice(0, 8)}`;
    const registry = createMetricsRegistry('test');
    watchConsumerLag(registry, bus, group);
    try {
      const seen: string[] = [];
      const stop = await bus.consume(group, [type], async (e) => void seen.push(e.id));
      await bus.publish(domainEvent(type, { n: 0 }));
      await vi.waitUntil(() => seen.length === 1, { timeout: 10_000, interval: 20 }); // first delivery
      await vi.waitUntil(async () => (await bus.consumerLag(group)) === 0, { timeout: 10_000, interval: 20 }); // its acknowledgement

      await stop();
      for (let n = 1; n <= 3; n++) await bus.publish(domainEvent(type, { n }));
      expect(await bus.consumerLag(group)).toBe(3);
      expect(lagLine(await registry.metrics(), group)).toMatch(/ 3$/);

      await bus.consume(group, [type], async (e) => void seen.push(e.id));
      await vi.waitUntil(() => seen.length === 4, { timeout: 10_000, interval: 20 }); // held deliveries
      await vi.waitUntil(async () => (await bus.consumerLag(group)) === 0, { timeout: 10_000, interval: 20 }); // their acknowledgements
      expect(lagLine(await registry.metrics(), group)).toMatch(/ 0$/);
    } finally {
      await bus.close();
    }
  });

  it.skipIf(!open)('counts an event delivered but not acknowledged: its handler failed and it waits for a retry', async () => {
    const bus = open!();
    const type = `Failing${randomUUID().slice(0, 8)}`;
    const group = `failing-${randomUUID().slice(0, 8)}`;
    try {
      let attempts = 0;
      await bus.consume(group, [type], async () => {
        attempts += 1;
        throw new Error('not yet');
      });
      await bus.publish(domainEvent(type, { n: 1 }));
      await vi.waitUntil(() => attempts === 1, { timeout: 10_000, interval: 20 }); // first delivery
      expect(await bus.consumerLag(group)).toBe(1);
      // Nobody else is behind: a group this bus never saw consume.
      expect(await bus.consumerLag(`unknown-${randomUUID().slice(0, 8)}`)).toBe(0);
    } finally {
      await bus.close();
    }
  });
});
