/**
 * The Redis revocation store against a real Redis (TEST_REDIS_URL; CI sets it), as two instances
 * in separate processes would use it. Skipped without one: there is nothing to test it against.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisSessionRevocations, createSessionWatch, type SessionRevocations, type SessionsRevokedNotice } from '../src/identity/session-revocation.ts';

const url = process.env.TEST_REDIS_URL;

describe.skipIf(!url)('Redis session revocations', () => {
  const prefix = `campus-test-${randomBytes(6).toString('hex')}:sessions:`;
  let instanceA: SessionRevocations;
  let instanceB: SessionRevocations;
  let admin: Redis;

  beforeAll(() => {
    instanceA = createRedisSessionRevocations(url!, { prefix, ttlSeconds: 960 });
    instanceB = createRedisSessionRevocations(url!, { prefix, ttlSeconds: 960 });
    admin = new Redis(url!);
  });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    await Promise.all([instanceA?.close(), instanceB?.close(), admin?.quit()]);
  });

  it('shows a revocation recorded by one instance to another at once', async () => {
    expect(await instanceB.revokedReason('s-1')).toBeUndefined();
    await instanceA.revoke(['s-1', 's-2'], 'PASSWORD_CHANGED');
    expect(await instanceB.revokedReason('s-1')).toBe('PASSWORD_CHANGED');
    expect(await instanceB.revokedAmong(['s-0', 's-1', 's-2'])).toEqual(new Map([['s-1', 'PASSWORD_CHANGED'], ['s-2', 'PASSWORD_CHANGED']]));
  });

  it('keeps an entry only as long as a token of the session could live', async () => {
    await instanceA.revoke(['s-ttl'], 'LOGGED_OUT');
    const ttl = await admin.ttl(`${prefix}revoked:s-ttl`);
    expect(ttl).toBeGreaterThan(900);
    expect(ttl).toBeLessThanOrEqual(960);
  });

  it('announces a revocation to the listeners of every instance', async () => {
    const heard = new Promise<SessionsRevokedNotice>((resolve) => {
      const stop = instanceB.onRevoked((notice) => {
        stop();
        resolve(notice);
      });
    });
    await instanceB.ready();
    await instanceA.revoke(['s-3'], 'REVOKED_BY_ADMIN');
    expect(await heard).toEqual({ sessionIds: ['s-3'], reason: 'REVOKED_BY_ADMIN' });
  });

  it('ends a watched session on another instance through the notice', async () => {
    const watch = createSessionWatch(instanceB);
    await instanceB.ready();
    const ended = new Promise<string>((resolve) => watch.watch('s-4', resolve));
    await instanceA.revoke(['s-4'], 'ROLE_CHANGED');
    expect(await ended).toBe('ROLE_CHANGED');
    watch.close();
  });
});
