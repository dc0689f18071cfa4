/** The users service's configuration, read from the environment in one place. */
import { commonEnv, ConfigError, parseEnv, port, pubsubEnv, type Env } from '@campus/kit';
import { z } from 'zod';

const schema = z.object({
  ...commonEnv,
  ...pubsubEnv,
  USERS_PORT: port(4001),
  /** PostgreSQL URL; without it the service runs on an embedded PGlite under USERS_DATA_DIR. */
  USERS_DATABASE_URL: z.url().optional(),
  USERS_DATA_DIR: z.string().optional(),
  /** PKCS#8 PEM of the Ed25519 key that signs access tokens. Required with a database URL. */
  USERS_JWT_PRIVATE_KEY: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Failed logins allowed per account (and, multiplied by 4, per client address) in the window. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).default(900),
});

export interface UsersConfig {
  port: number;
  production: boolean;
  logLevel: string;
  routerSigningSecret: string;
  databaseUrl: string | undefined;
  /** Pub/sub for subscriptions: Redis when set (every instance hears every event), else in memory. */
  redisUrl: string | undefined;
  redisPubSubPrefix: string | undefined;
  dataDir: string | undefined;
  jwtPrivateKeyPem: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  throttle: { maxFailures: number; maxFailuresPerIp: number; windowSeconds: number; lockoutSeconds: number };
}

export function loadConfig(env: Env): UsersConfig {
  const e = parseEnv(schema, env);
  if (e.NODE_ENV === 'production' && !e.USERS_JWT_PRIVATE_KEY) {
    // Generated keys differ per instance and restart: every other instance would reject the tokens.
    throw new ConfigError(['USERS_JWT_PRIVATE_KEY: required in production (PKCS#8 PEM of an Ed25519 key)']);
  }
  return {
    port: e.USERS_PORT,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    routerSigningSecret: e.ROUTER_SIGNING_SECRET,
    databaseUrl: e.USERS_DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPubSubPrefix: e.REDIS_PUBSUB_PREFIX,
    dataDir: e.USERS_DATA_DIR,
    jwtPrivateKeyPem: e.USERS_JWT_PRIVATE_KEY,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    throttle: {
      maxFailures: e.LOGIN_MAX_FAILURES,
      maxFailuresPerIp: e.LOGIN_MAX_FAILURES * 4,
      windowSeconds: e.LOGIN_WINDOW_SECONDS,
      lockoutSeconds: e.LOGIN_LOCKOUT_SECONDS,
    },
  };
}
