/**
 * The Redis Streams bus when Redis loses its data under a running consumer: restarted without
 * persistence, flushed, or a stream deleted. Against a redis-server of the test's own (the shared
 * one must never be stopped or flushed); skipped where redis-server is not installed.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { domainEvent, type DomainEvent, type EventBus } from '../src/events/event-bus.ts';
import { createRedisEventBus } from '../src/events/redis-bus.ts';
import { haveRedisServer, startOwnRedis, type OwnRedis } from './own-redis.ts';

describe.skipIf(!haveRedisServer())('Redis Streams bus after Redis lost its data', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** A bus and one consumer of group "courses", with what it received and what it warned about. */
  const consuming = async () => {
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const warnings: { message: string; details: Record<string, unknown> }[] = [];
    const bus: EventBus = createRedisEventBus(redis.url, {
      prefix: `heal-${randomUUID().slice(0, 8)}:`,
      retryAfterMs: 200,
      blockMs: 200,
      onWarning: (message, details) => warnings.push({ message, details }),
    });
    const seen: DomainEvent[] = [];
    await bus.consume('courses', [type], async (e) => void seen.push(e));
    const delivered = async (payload: Record<string, unknown>) => {
      const event = domainEvent(type, payload);
      await bus.publish(event);
      await vi.waitUntil(() => seen.some((e) => e.id === event.id), { timeout: 10_000, interval: 20 }); // delivery
    };
    return { bus, type, warnings, seen, delivered };
  };

  it('goes on receiving after Redis restarts empty, without a restart of the bus', async () => {
    const { bus, warnings, delivered } = await consuming();
    try {
      await delivered({ n: 1 });
      expect(warnings).toEqual([]);

      await redis.kill();
      await redis.restart();
      const started = Date.now();
      await delivered({ n: 2 });
      expect(Date.now() - started).toBeLessThan(8_000);
      // One report for the repair, naming the group and what was recreated.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/recreated/);
      expect(warnings[0]!.details).toMatchObject({ group: 'courses' });
      expect(warnings[0]!.details.streams).toHaveLength(2);

      await delivered({ n: 3 });
      expect(warnings).toHaveLength(1);
    } finally {
      await bus.close();
    }
  });

  it('goes on receiving after FLUSHALL, and after its stream is deleted, while consuming', async () => {
    const { bus, type, warnings, delivered } = await consuming();
    const admin = new Redis(redis.url);
    try {
      await delivered({ n: 1 });
      await admin.flushall();
      await delivered({ n: 2 });
      expect(warnings).toHaveLength(1);

      const streams = await admin.keys(`*${type}`);
      expect(streams.length).toBeGreaterThan(0);
      await admin.del(...streams);
      await delivered({ n: 3 });
      expect(warnings).toHaveLength(2);
    } finally {
      await bus.close();
      await admin.quit();
    }
  });
});
