import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../src/webhooks/signature.ts';

const secret = 'whsec_test_secret_that_is_long_enough';
const body = '{"id":"evt_1","type":"payment_intent.succeeded"}';
const now = Date.UTC(2026, 0, 1, 12);

describe('webhook signatures (Stripe scheme)', () => {
  it('accepts a signature over the exact raw body and timestamp', () => {
    expect(verifyWebhook(secret, signWebhook(secret, body, now), body, now)).toEqual({ ok: true });
  });

  it('refuses a body changed after signing, even by whitespace', () => {
    const header = signWebhook(secret, body, now);
    expect(verifyWebhook(secret, header, body.replace(':', ': '), now).ok).toBe(false);
  });

  it('refuses another secret, a missing header and a malformed one', () => {
    expect(verifyWebhook(secret, signWebhook('whsec_someone_else_entirely_000000', body, now), body, now)).toEqual({ ok: false, reason: 'no signature matches' });
    expect(verifyWebhook(secret, undefined, body, now).ok).toBe(false);
    expect(verifyWebhook(secret, 'v1=abc', body, now)).toEqual({ ok: false, reason: 'malformed Campus-Signature header' });
    expect(verifyWebhook(secret, 't=abc,v1=zz', body, now).ok).toBe(false);
  });

  it('refuses a timestamp more than 300 seconds away in either direction, and accepts one within', () => {
    const header = signWebhook(secret, body, now);
    expect(verifyWebhook(secret, header, body, now + 301_000)).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
    expect(verifyWebhook(secret, header, body, now - 301_000).ok).toBe(false);
    expect(verifyWebhook(secret, header, body, now + 299_000).ok).toBe(true);
  });

  it('accepts any of several v1 signatures and any of several secrets (rotation)', () => {
    const t = Math.floor(now / 1000);
    const old = signWebhook('whsec_old_secret_000000000000000000', body, now).split(',')[1];
    const current = signWebhook(secret, body, now).split(',')[1];
    expect(verifyWebhook(secret, `t=${t},${old},${current}`, body, now).ok).toBe(true);
    expect(verifyWebhook(['whsec_new_secret_00000000000000000000', secret], signWebhook(secret, body, now), body, now).ok).toBe(true);
  });
});
