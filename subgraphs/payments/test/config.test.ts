import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@campus/kit/core';
import { generateServiceKeyPem } from '@campus/kit/identity';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

const base = {};
const signingKey = generateServiceKeyPem();

describe('payments configuration', () => {
  it('runs on defaults: port 4003, sandbox provider, a generated webhook secret, the refund policy', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ port: 4003, provider: 'sandbox', refundPolicy: { windowDays: 14, maxProgressPercent: 30 }, outboxRelay: true });
    expect(c.webhookSecret.length).toBeGreaterThanOrEqual(32);
    expect(c).toMatchObject({ reconcileAfterMs: 600_000, idempotencyRetentionMs: 24 * 3_600_000, ackTimeoutMs: 60_000 });
  });

  it('reads the reconciliation threshold, key retention and acknowledgement timeout, and refuses nonsense', () => {
    const c = loadConfig({ PAYMENTS_RECONCILE_AFTER_MS: '3000', PAYMENTS_IDEMPOTENCY_RETENTION_HOURS: '48', PAYMENTS_ACK_TIMEOUT_MS: '5000' });
    expect(c).toMatchObject({ reconcileAfterMs: 3000, idempotencyRetentionMs: 48 * 3_600_000, ackTimeoutMs: 5000 });
    try {
      loadConfig({ PAYMENTS_RECONCILE_AFTER_MS: '-1', PAYMENTS_IDEMPOTENCY_RETENTION_HOURS: '0', PAYMENTS_ACK_TIMEOUT_MS: 'soon' });
      expect.unreachable();
    } catch (e) {
      const text = (e as ConfigError).problems.join('\n');
      for (const name of ['PAYMENTS_RECONCILE_AFTER_MS', 'PAYMENTS_IDEMPOTENCY_RETENTION_HOURS', 'PAYMENTS_ACK_TIMEOUT_MS']) expect(text).toContain(name);
    }
  });

  it('lists every bad variable at once, and requires a webhook secret and a signing key in production', () => {
    try {
      loadConfig({ ...base, NODE_ENV: 'production', PAYMENTS_PORT: 'x', PAYMENTS_REFUND_MAX_PROGRESS_PERCENT: '101', COURSES_URL: 'nope' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const text = (e as ConfigError).problems.join('\n');
      for (const name of ['PAYMENTS_PORT', 'PAYMENTS_REFUND_MAX_PROGRESS_PERCENT', 'COURSES_URL', 'PAYMENTS_WEBHOOK_SECRET', 'PAYMENTS_SIGNING_KEYS']) expect(text).toContain(name);
    }
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(/PAYMENTS_WEBHOOK_SECRET: is required in production/);
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', PAYMENTS_WEBHOOK_SECRET: 'w'.repeat(32) })).toThrow(/PAYMENTS_SIGNING_KEYS: is required in production/);
    const production = loadConfig({ ...base, NODE_ENV: 'production', PAYMENTS_WEBHOOK_SECRET: 'w'.repeat(32), PAYMENTS_SIGNING_KEYS: signingKey });
    expect(production).toMatchObject({ webhookSecret: 'w'.repeat(32), signingKeys: [signingKey.trim()] });
  });

  it('reads several signing keys, one-line .env escapes included, and refuses keys that are not Ed25519 PEM', () => {
    const next = generateServiceKeyPem();
    expect(loadConfig({ PAYMENTS_SIGNING_KEYS: `${signingKey}${next}` }).signingKeys).toEqual([signingKey.trim(), next.trim()]);
    expect(loadConfig({ PAYMENTS_SIGNING_KEYS: signingKey.replace(/\n/g, '\\n') }).signingKeys).toEqual([signingKey.trim()]);
    expect(() => loadConfig({ PAYMENTS_SIGNING_KEYS: 'not a key' })).toThrow(/PAYMENTS_SIGNING_KEYS: must hold one or more PKCS#8 PEM/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadConfig({ PAYMENTS_SIGNING_KEYS: rsa })).toThrow(/PAYMENTS_SIGNING_KEYS: key 1 is an rsa key/);
  });
});
