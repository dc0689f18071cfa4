/**
 * Webhook signatures, Stripe's scheme (docs/payments.md): the provider sends
 * `Campus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The receiver
 * recomputes the HMAC over the exact bytes it received (re-serialized JSON would not match),
 * compares in constant time and refuses timestamps more than 300 s away, so a captured delivery
 * cannot be replayed later. Several v1 values are accepted (the provider sends one per secret
 * while secrets rotate), and so is a list of secrets on our side.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SIGNATURE_HEADER = 'campus-signature';
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, t: number, rawBody: Buffer | string) =>
  createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();

export function signWebhook(secret: string, rawBody: Buffer | string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${hmac(secret, t, rawBody).toString('hex')}`;
}

export type WebhookCheck = { ok: true } | { ok: false; reason: string };

export function verifyWebhook(
  secrets: string | string[],
  header: string | undefined,
  rawBody: Buffer | string,
  now = Date.now(),
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): WebhookCheck {
  if (!header) return { ok: false, reason: 'missing Campus-Signature header' };
  let t: number | undefined;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) t = Number(value);
    if (key === 'v1' && value && /^[0-9a-f]{64}$/i.test(value)) given.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || given.length === 0) return { ok: false, reason: 'malformed Campus-Signature header' };
  if (Math.abs(now / 1000 - t) > toleranceSeconds) return { ok: false, reason: 'timestamp outside the tolerance' };
  for (const secret of Array.isArray(secrets) ? secrets : [secrets]) {
    const expected = hmac(secret, t, rawBody);
    if (given.some((g) => timingSafeEqual(g, expected))) return { ok: true };
  }
  return { ok: false, reason: 'no signature matches' };
}
