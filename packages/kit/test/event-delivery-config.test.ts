/** EVENTS_MAX_DELIVERIES and EVENTS_RETRY_AFTER_MS, as every service reads them (service-config.ts). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../src/core/config.ts';
import { serviceConfig, serviceEnv } from '../src/subgraph/service-config.ts';

const schema = z.object(serviceEnv('THINGS', 4100));

describe('event delivery settings', () => {
  it('default to 10 deliveries and 2 s before a redelivery', () => {
    expect(serviceConfig('THINGS', parseEnv(schema, {})).events).toEqual({ maxDeliveries: 10, retryAfterMs: 2_000 });
  });

  it('are read from the environment, and refused when not positive whole numbers', () => {
    const e = parseEnv(schema, { EVENTS_MAX_DELIVERIES: '3', EVENTS_RETRY_AFTER_MS: '500' });
    expect(serviceConfig('THINGS', e).events).toEqual({ maxDeliveries: 3, retryAfterMs: 500 });
    try {
      parseEnv(schema, { EVENTS_MAX_DELIVERIES: '0', EVENTS_RETRY_AFTER_MS: 'soon' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['EVENTS_MAX_DELIVERIES', 'EVENTS_RETRY_AFTER_MS']);
    }
  });
});
