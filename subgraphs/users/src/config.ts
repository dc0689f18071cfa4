/** The users service's configuration, read from the environment in one place. */
import { ConfigError, parseEnv, type Env } from '@campus/kit/core';
import { jwksSourceEnv, SERVICE_JWKS_PATH } from '@campus/kit/identity';
import { serviceConfig, serviceEnv, type ServiceConfig } from '@campus/kit/subgraph';
import { z } from 'zod';

const schema = z.object({
  ...serviceEnv('USERS', 4001),
  /** PKCS#8 PEM of the Ed25519 key that signs access tokens. Required with a database URL. */
  USERS_JWT_PRIVATE_KEY: z.string().optional(),
  /** The payments service's public keys (it reads buyers' names for receipts): its JWKS URL or the JWKS itself. */
  PAYMENTS_JWKS: jwksSourceEnv(`http://localhost:4003${SERVICE_JWKS_PATH}`),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Failed logins allowed per account (and, multiplied by 4, per client address) in the window. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).default(900),
  /** How long a ready data export's document is kept before it is purged (docs/privacy.md); 7 days. */
  DATA_EXPORT_TTL_SECONDS: z.coerce.number().int().min(1).max(90 * 86_400).default(7 * 86_400),
  /** Cool-off between requestAccountDeletion and the erasure, during which it can be cancelled; 14 days. */
  ACCOUNT_DELETION_COOL_OFF_SECONDS: z.coerce.number().int().min(0).max(365 * 86_400).default(14 * 86_400),
  /** How often due erasures and expired exports are looked for, and the outbox polled. */
  USERS_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /** An export or erasure request not yet answered by every participant this long after publishing is published again. */
  USERS_ACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
});

export interface UsersConfig extends ServiceConfig {
  jwtPrivateKeyPem: string | undefined;
  paymentsJwks: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  throttle: { maxFailures: number; maxFailuresPerIp: number; windowSeconds: number; lockoutSeconds: number };
  privacy: { exportTtlSeconds: number; coolOffSeconds: number };
  pollIntervalMs: number;
  ackTimeoutMs: number;
}

export function loadConfig(env: Env): UsersConfig {
  const e = parseEnv(schema, env);
  if (e.NODE_ENV === 'production' && !e.USERS_JWT_PRIVATE_KEY) {
    // Generated keys differ per instance and restart: every other instance would reject the tokens.
    throw new ConfigError(['USERS_JWT_PRIVATE_KEY: required in production (PKCS#8 PEM of an Ed25519 key)']);
  }
  if (e.ACCESS_TOKEN_TTL_SECONDS > e.ACCESS_TOKEN_MAX_LIFETIME_SECONDS) {
    // Every verifier would refuse the tokens this service issues.
    throw new ConfigError([`ACCESS_TOKEN_TTL_SECONDS: must not exceed ACCESS_TOKEN_MAX_LIFETIME_SECONDS (${e.ACCESS_TOKEN_MAX_LIFETIME_SECONDS})`]);
  }
  return {
    ...serviceConfig('USERS', e),
    jwtPrivateKeyPem: e.USERS_JWT_PRIVATE_KEY,
    paymentsJwks: e.PAYMENTS_JWKS,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    throttle: {
      maxFailures: e.LOGIN_MAX_FAILURES,
      maxFailuresPerIp: e.LOGIN_MAX_FAILURES * 4,
      windowSeconds: e.LOGIN_WINDOW_SECONDS,
      lockoutSeconds: e.LOGIN_LOCKOUT_SECONDS,
    },
    privacy: { exportTtlSeconds: e.DATA_EXPORT_TTL_SECONDS, coolOffSeconds: e.ACCOUNT_DELETION_COOL_OFF_SECONDS },
    pollIntervalMs: e.USERS_POLL_INTERVAL_MS,
    ackTimeoutMs: e.USERS_ACK_TIMEOUT_MS,
  };
}
