/**
 * Redis pub/sub against a real Redis (TEST_REDIS_URL; CI sets it). Skipped without one: there is
 * nothing to test the Redis adapter against.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PubSub } from '../src/events/pubsub.ts';
import { createRedisPubSub } from '../src/events/redis-pubsub.ts';

const url = process.env.TEST_REDIS_URL;

describe.skipIf(!url)('Redis pub/sub', () => {
  const prefix = `campus-test-${randomBytes(6).toString('hex')}:`;
  let instanceA: PubSub;
  let instanceB: PubSub;
  let admin: Redis;
  const subscribersOf = async (topic: string) => {
    const [, count] = (await admin.pubsub('NUMSUB', prefix + topic)) as [string, number];
    return Number(count);
  };

  beforeAll(() => {
    instanceA = createRedisPubSub(url!, { prefix });
    instanceB = createRedisPubSub(url!, { prefix });
    admin = new Redis(url!);
  });
  afterAll(async () => {
    await Promise.all([instanceA?.close(), instanceB?.close(), admin?.quit()]);
  });

  it('carries a message published by one instance to a subscriber of another', async () => {
    const sub = instanceB.subscribe<{ n: number }>('course:1');
    await sub.ready;
    await instanceA.publish('course:1', { n: 1 });
    expect((await sub.next()).value).toEqual({ n: 1 });
    await sub.return!();
  });

  it('holds one Redis subscription per topic however many local subscribers, and drops it after the last', async () => {
    const subs = [instanceA.subscribe('t:shared'), instanceA.subscribe('t:shared'), instanceA.subscribe('t:shared')];
    await Promise.all(subs.map((s) => s.ready));
    expect(await subscribersOf('t:shared')).toBe(1);
    await instanceB.publish('t:shared', 'hello');
    for (const s of subs) expect((await s.next()).value).toBe('hello');

    await subs[0]!.return!();
    await subs[1]!.return!();
    expect(await subscribersOf('t:shared')).toBe(1);
    await subs[2]!.return!();
    // Commands on one connection run in order: a SUBSCRIBE acknowledged after the UNSUBSCRIBE proves it applied.
    const probe = instanceA.subscribe('t:probe');
    await probe.ready;
    expect(await subscribersOf('t:shared')).toBe(0);
    await probe.return!();
  });

  it('does not hear channels of another prefix', async () => {
    const other = createRedisPubSub(url!, { prefix: `${prefix}other:` });
    try {
      const sub = instanceA.subscribe<string>('t:isolated');
      await sub.ready;
      const next = sub.next();
      await other.publish('t:isolated', 'not for you');
      await instanceB.publish('t:isolated', 'for you');
      expect((await next).value).toBe('for you');
      await sub.return!();
    } finally {
      await other.close();
    }
  });
});
