/**
 * Seen request ids shared by every instance of a service through a real Redis (TEST_REDIS_URL; CI
 * sets it): a signed request replayed to another instance behind the load balancer is refused too.
 * Skipped without one: there is nothing to test the Redis store against.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/core/logger.ts';
import { createSeenRequestIds, type SeenRequestIds } from '../src/identity/seen-request-ids.ts';

const url = process.env.TEST_REDIS_URL;

describe.skipIf(!url)('seen request ids on Redis', () => {
  let instanceA: SeenRequestIds;
  let instanceB: SeenRequestIds;

  beforeAll(async () => {
    const logger = createLogger('test', 'silent');
    instanceA = createSeenRequestIds({ redisUrl: url, logger });
    instanceB = createSeenRequestIds({ redisUrl: url, logger });
    await Promise.all([instanceA.ready(), instanceB.ready()]);
  });
  afterAll(async () => {
    await Promise.all([instanceA?.close(), instanceB?.close()]);
  });

  it('refuses on instance B an id first seen on instance A', async () => {
    const id = `router:${randomUUID()}`;
    expect(await instanceA.firstSight(id, 60_000)).toBe(true);
    expect(await instanceB.firstSight(id, 60_000)).toBe(false);
    expect(await instanceA.firstSight(id, 60_000)).toBe(false);
  });

  it('forgets an id once its signature could no longer be valid', async () => {
    const id = `router:${randomUUID()}`;
    expect(await instanceA.firstSight(id, 50)).toBe(true);
    await expect.poll(() => instanceB.firstSight(id, 50), { timeout: 5_000, interval: 25 }).toBe(true);
  });
});
