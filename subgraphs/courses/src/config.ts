/** The courses service's configuration, read from the environment in one place. */
import { commonEnv, parseEnv, port, pubsubEnv, type Env } from '@campus/kit';
import { z } from 'zod';

const schema = z.object({
  ...commonEnv,
  ...pubsubEnv,
  COURSES_PORT: port(4002),
  /** PostgreSQL URL; without it the service runs on an embedded PGlite under COURSES_DATA_DIR. */
  COURSES_DATABASE_URL: z.url().optional(),
  COURSES_DATA_DIR: z.string().optional(),
  /** Stream-name prefix on Redis, so deployments sharing one Redis keep their events apart. */
  REDIS_EVENTS_PREFIX: z.string().optional(),
  /** The users service's public keys: every subgraph verifies access tokens itself. */
  JWKS_URL: z.url().default('http://localhost:4001/.well-known/jwks.json'),
});

export interface CoursesConfig {
  port: number;
  production: boolean;
  logLevel: string;
  routerSigningSecret: string;
  databaseUrl: string | undefined;
  dataDir: string | undefined;
  jwksUrl: string;
  /** Pub/sub and event bus across processes: Redis when set, in process otherwise. */
  redisUrl: string | undefined;
  redisPubSubPrefix: string | undefined;
  redisEventsPrefix: string | undefined;
}

export function loadConfig(env: Env): CoursesConfig {
  const e = parseEnv(schema, env);
  return {
    port: e.COURSES_PORT,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    routerSigningSecret: e.ROUTER_SIGNING_SECRET,
    databaseUrl: e.COURSES_DATABASE_URL,
    dataDir: e.COURSES_DATA_DIR,
    jwksUrl: e.JWKS_URL,
    redisUrl: e.REDIS_URL,
    redisPubSubPrefix: e.REDIS_PUBSUB_PREFIX,
    redisEventsPrefix: e.REDIS_EVENTS_PREFIX,
  };
}
