/**
 * What every subgraph service reads from its environment under its own prefix (USERS_, COURSES_,
 * PAYMENTS_ ...): port, database, embedded data directory, plus the shared Redis settings. Each
 * service's config.ts spreads `serviceEnv(...)` into its zod schema and `serviceConfig(...)` into
 * its typed config, and adds only what is its own.
 */
import { z } from 'zod';
import { commonEnv, port } from './config.ts';
import { pubsubEnv } from './pubsub/create-pubsub.ts';

type Prefixed<P extends string> = {
  [K in `${P}_PORT`]: ReturnType<typeof port>;
} & {
  [K in `${P}_DATABASE_URL`]: z.ZodOptional<z.ZodURL>;
} & {
  [K in `${P}_DATA_DIR`]: z.ZodOptional<z.ZodString>;
};

export function serviceEnv<P extends string>(prefix: P, defaultPort: number) {
  const own = {
    [`${prefix}_PORT`]: port(defaultPort),
    /** PostgreSQL URL; without it the service runs on an embedded PGlite under <PREFIX>_DATA_DIR. */
    [`${prefix}_DATABASE_URL`]: z.url().optional(),
    [`${prefix}_DATA_DIR`]: z.string().optional(),
  } as Prefixed<P>;
  return {
    ...commonEnv,
    ...pubsubEnv,
    /** Stream-name prefix on Redis, so deployments sharing one Redis keep their events apart. */
    REDIS_EVENTS_PREFIX: z.string().optional(),
    ...own,
  };
}

export interface ServiceConfig {
  port: number;
  production: boolean;
  logLevel: string;
  routerSigningSecret: string;
  /** PostgreSQL; absent = embedded PGlite in dataDir (or in memory without one). */
  databaseUrl: string | undefined;
  dataDir: string | undefined;
  /** Pub/sub and event bus across processes: Redis when set, in process otherwise. */
  redisUrl: string | undefined;
  redisPubSubPrefix: string | undefined;
  redisEventsPrefix: string | undefined;
}

/** The parsed variables of `serviceEnv` that are not prefixed. */
interface ParsedServiceEnv {
  NODE_ENV: string;
  LOG_LEVEL: string;
  ROUTER_SIGNING_SECRET: string;
  REDIS_URL?: string | undefined;
  REDIS_PUBSUB_PREFIX?: string | undefined;
  REDIS_EVENTS_PREFIX?: string | undefined;
}

export function serviceConfig(prefix: string, e: ParsedServiceEnv): ServiceConfig {
  const own = e as unknown as Record<string, unknown>;
  return {
    port: own[`${prefix}_PORT`] as number,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    routerSigningSecret: e.ROUTER_SIGNING_SECRET,
    databaseUrl: own[`${prefix}_DATABASE_URL`] as string | undefined,
    dataDir: own[`${prefix}_DATA_DIR`] as string | undefined,
    redisUrl: e.REDIS_URL,
    redisPubSubPrefix: e.REDIS_PUBSUB_PREFIX,
    redisEventsPrefix: e.REDIS_EVENTS_PREFIX,
  };
}
