import { ConfigError } from '@campus/kit';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

const base = { ROUTER_SIGNING_SECRET: 'x'.repeat(32) };

describe('payments configuration', () => {
  it('runs on defaults: port 4003, sandbox provider, a generated webhook secret, the refund policy', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ port: 4003, provider: 'sandbox', refundPolicy: { windowDays: 14, maxProgressPercent: 30 }, outboxRelay: true });
    expect(c.webhookSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('lists every bad variable at once, and requires a webhook secret in production', () => {
    try {
      loadConfig({ ...base, NODE_ENV: 'production', PAYMENTS_PORT: 'x', PAYMENTS_REFUND_MAX_PROGRESS_PERCENT: '101', COURSES_URL: 'nope' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const text = (e as ConfigError).problems.join('\n');
      for (const name of ['PAYMENTS_PORT', 'PAYMENTS_REFUND_MAX_PROGRESS_PERCENT', 'COURSES_URL', 'PAYMENTS_WEBHOOK_SECRET']) expect(text).toContain(name);
    }
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(/PAYMENTS_WEBHOOK_SECRET: is required in production/);
    expect(loadConfig({ ...base, NODE_ENV: 'production', PAYMENTS_WEBHOOK_SECRET: 'w'.repeat(32) }).webhookSecret).toBe('w'.repeat(32));
  });
});
