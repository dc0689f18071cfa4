/** The payments service's configuration, read from the environment in one place. */
import { randomBytes } from 'node:crypto';
import { parseEnv, type Env } from '@campus/kit/core';
import { generateServiceKeyPem, signingKeysEnv } from '@campus/kit/identity';
import { serviceConfig, serviceEnv, usersJwksUrl, userTokensEnv, type ServiceConfig } from '@campus/kit/subgraph';
import { z } from 'zod';

const schema = z
  .object({
    ...serviceEnv('PAYMENTS', 4003),
    /**
     * Base URLs of the services checkout asks for the price and the buyer (the stack sets them);
     * the users service's public keys are JWKS_URL, else at USERS_URL (userTokensEnv).
     */
    COURSES_URL: z.url().default('http://localhost:4002'),
    ...userTokensEnv,
    /**
     * PKCS#8 PEM Ed25519 private keys payments signs its calls to courses and users with, as
     * itself (docs/identity/service-identity.md); the first signs, all are published at
     * /.well-known/service-jwks.json. Required in production; generated per process otherwise.
     */
    PAYMENTS_SIGNING_KEYS: signingKeysEnv().optional(),
    /** Only "sandbox" today: a built-in provider that needs no credentials. */
    PAYMENTS_PROVIDER: z.enum(['sandbox']).default('sandbox'),
    /**
     * The secret webhooks are signed with (Stripe's "endpoint secret"). Required in production;
     * the embedded default generates one per process, which is enough when the sandbox provider
     * and the webhook live in that same process.
     */
    PAYMENTS_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Where the sandbox provider delivers webhooks; default: this service's own listening address. */
    PAYMENTS_WEBHOOK_URL: z.url().optional(),
    /** How long the sandbox's delayed test method (pm_card_visa_delayed) takes to succeed. */
    PAYMENTS_SANDBOX_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(3_000),
    /** A buyer may ask for a refund for this many days after paying ... */
    PAYMENTS_REFUND_WINDOW_DAYS: z.coerce.number().min(0).max(365).default(14),
    /** ... while having completed at most this share of the course's lessons. */
    PAYMENTS_REFUND_MAX_PROGRESS_PERCENT: z.coerce.number().min(0).max(100).default(30),
    /** How often the outbox relay and the webhook inbox look for work they were not told about. */
    PAYMENTS_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /**
     * Run the outbox relay in this process. Turn off where a separate process relays, or to leave
     * committed events unpublished on purpose (the crash test does).
     */
    PAYMENTS_OUTBOX_RELAY: z.enum(['true', 'false']).default('true'),
    /**
     * A payment still PENDING this long after checkout is settled from the provider's answer
     * (src/reconciliation.ts): its webhook may have been lost.
     */
    PAYMENTS_RECONCILE_AFTER_MS: z.coerce.number().int().min(1_000).max(7 * 86_400_000).default(600_000),
    /** How long a checkout idempotency key replays its first result (Stripe keeps keys 24 h). */
    PAYMENTS_IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().min(1).max(24 * 90).default(24),
    /**
     * How long a published PaymentSucceeded / PaymentRefunded may wait for courses' answer
     * (EnrollmentGranted / EnrollmentRevoked) before the relay publishes it again.
     */
    PAYMENTS_ACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  })
  // `when`: checked even when other variables are bad, so every problem is listed at once.
  .refine((e) => !(e.NODE_ENV === 'production' && !e.PAYMENTS_WEBHOOK_SECRET), {
    path: ['PAYMENTS_WEBHOOK_SECRET'],
    message: 'is required in production',
    when: () => true,
  })
  // Generated keys differ per instance: courses and users would know only the one they fetched.
  .refine((e) => !(e.NODE_ENV === 'production' && !e.PAYMENTS_SIGNING_KEYS), {
    path: ['PAYMENTS_SIGNING_KEYS'],
    message: 'is required in production (PKCS#8 PEM of an Ed25519 key)',
    when: () => true,
  });

export interface PaymentsConfig extends ServiceConfig {
  coursesUrl: string;
  usersUrl: string;
  /** The users service's JWKS, which access tokens are verified with. */
  jwksUrl: string;
  /** PEM private keys payments signs its service calls with; the first signs (service-identity/keys.ts). */
  signingKeys: string[];
  provider: 'sandbox';
  webhookSecret: string;
  webhookUrl: string | undefined;
  sandboxDelayMs: number;
  refundPolicy: { windowDays: number; maxProgressPercent: number };
  pollIntervalMs: number;
  outboxRelay: boolean;
  reconcileAfterMs: number;
  idempotencyRetentionMs: number;
  ackTimeoutMs: number;
}

export function loadConfig(env: Env): PaymentsConfig {
  const e = parseEnv(schema, env);
  return {
    ...serviceConfig('PAYMENTS', e),
    coursesUrl: e.COURSES_URL,
    usersUrl: e.USERS_URL,
    jwksUrl: usersJwksUrl(e),
    signingKeys: e.PAYMENTS_SIGNING_KEYS ?? [generateServiceKeyPem()],
    provider: e.PAYMENTS_PROVIDER,
    webhookSecret: e.PAYMENTS_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('hex')}`,
    webhookUrl: e.PAYMENTS_WEBHOOK_URL,
    sandboxDelayMs: e.PAYMENTS_SANDBOX_DELAY_MS,
    refundPolicy: { windowDays: e.PAYMENTS_REFUND_WINDOW_DAYS, maxProgressPercent: e.PAYMENTS_REFUND_MAX_PROGRESS_PERCENT },
    pollIntervalMs: e.PAYMENTS_POLL_INTERVAL_MS,
    outboxRelay: e.PAYMENTS_OUTBOX_RELAY === 'true',
    reconcileAfterMs: e.PAYMENTS_RECONCILE_AFTER_MS,
    idempotencyRetentionMs: e.PAYMENTS_IDEMPOTENCY_RETENTION_HOURS * 3_600_000,
    ackTimeoutMs: e.PAYMENTS_ACK_TIMEOUT_MS,
  };
}
