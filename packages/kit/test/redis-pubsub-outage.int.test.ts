/**
 * Live updates while Redis is down (docs/delivery.md): a publish after a commit returns within its
 * timeout and never throws, and pub/sub works again once Redis is back, subscriptions included.
 * Against a redis-server of the test's own (the shared one must never be stopped); skipped where
 * redis-server is not installed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bestEffortPublisher, listen, type PubSub } from '../src/events/pubsub.ts';
import { createRedisPubSub } from '../src/events/redis-pubsub.ts';
import { haveRedisServer, startOwnRedis, type OwnRedis } from './own-redis.ts';

describe.skipIf(!haveRedisServer())('live updates over Redis pub/sub during an outage', () => {
  let redis: OwnRedis;
  let pubsub: PubSub;
  beforeAll(async () => {
    redis = await startOwnRedis();
    pubsub = createRedisPubSub(redis.url, { prefix: 'outage:' });
  });
  afterAll(async () => {
    await pubsub?.close();
    await redis?.stop();
  });

  it('returns within its timeout without throwing while Redis is down, warns once, and recovers', async () => {
    const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
    const publish = bestEffortPublisher(pubsub, { warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) });
    const sub = await listen<{ n: number }>(pubsub, 'payment:1');
    await publish('payment:1', { n: 1 });
    expect((await sub.next()).value).toEqual({ n: 1 });

    await redis.kill();
    for (let n = 2; n < 7; n++) {
      const started = Date.now();
      await expect(publish('payment:1', { n })).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(350);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/could not publish a live update/);

    await redis.restart();
    // The subscription made before the outage hears new messages once it has resubscribed.
    let heard: number | undefined;
    void sub.next().then((r) => (heard = r.value?.n));
    await vi.waitUntil(async () => {
      await publish('payment:1', { n: 100 });
      return heard === 100;
    }, { timeout: 15_000, interval: 100 }); // reconnection and resubscription
    expect(warnings.at(-1)!.msg).toMatch(/published again/);
    expect(warnings.at(-1)!.obj.lost).toBeGreaterThanOrEqual(5);

    // And a new subscription, after the outage, too.
    const fresh = await listen<{ n: number }>(pubsub, 'payment:2');
    const started = Date.now();
    await publish('payment:2', { n: 7 });
    expect(Date.now() - started).toBeLessThan(350);
    expect((await fresh.next()).value).toEqual({ n: 7 });
    await sub.return!();
    await fresh.return!();
  });

  it('gives up after its timeout when Redis holds the connection but does not answer', async () => {
    const warnings: string[] = [];
    const publish = bestEffortPublisher(pubsub, { warn: (_, msg) => warnings.push(msg) }, { timeoutMs: 100 });
    const sub = await listen<{ n: number }>(pubsub, 'course:1');
    redis.freeze();
    try {
      for (let n = 1; n < 4; n++) {
        const started = Date.now();
        await expect(publish('course:1', { n })).resolves.toBeUndefined();
        expect(Date.now() - started).toBeLessThan(200);
      }
      expect(warnings).toHaveLength(1);
    } finally {
      redis.thaw();
    }
    // Late publishes may still arrive (subscribers tolerate that); a new one certainly does.
    const heard: number[] = [];
    const reading = (async () => {
      for await (const message of sub) heard.push(message.n);
    })();
    await vi.waitUntil(async () => {
      await publish('course:1', { n: 100 });
      return heard.includes(100);
    }, { timeout: 10_000, interval: 50 }); // answers again
    expect(warnings.at(-1)).toMatch(/published again/);
    await sub.return!();
    await reading;
  });
});
