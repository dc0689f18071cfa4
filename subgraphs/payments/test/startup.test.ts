/**
 * payments refuses to start when its outbox relay would publish into an in-process bus no other
 * service hears (no bus given, no REDIS_URL): the events would be marked published and lost.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createPaymentsService } from '../src/service.ts';

describe('starting payments', () => {
  it('refuses to relay with neither a bus nor REDIS_URL, naming both ways out', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    await expect(createPaymentsService(config, {})).rejects.toThrow(/REDIS_URL[\s\S]*PAYMENTS_OUTBOX_RELAY=false/);
  });
});
