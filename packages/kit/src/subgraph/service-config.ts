/**
 * What every subgraph service reads from its environment under its own prefix (USERS_, COURSES_,
 * PAYMENTS_ ...): port, database, embedded data directory, plus the shared Redis settings and where
 * the router's public keys are (ROUTER_JWKS: every subgraph checks the router's signature). Each
 * service's config.ts spreads `serviceEnv(...)` into its zod schema and `serviceConfig(...)` into
 * its typed config, and adds only what is its own.
 */
import { z } from 'zod';
import { commonEnv, port } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { createEventBus, eventBusEnv, eventDeliveryConfig, type EventDeliveryConfig } from '../events/create-bus.ts';
import type { EventBus } from '../events/event-bus.ts';
import { pubsubEnv } from '../events/create-pubsub.ts';
import { createCatalogGeneration, responseCacheEnv, type CatalogGeneration } from '../events/catalog-generation.ts';
import { jwksSourceEnv, SERVICE_JWKS_PATH } from '../identity/service-keys.ts';
import { sessionEnv, sessionStoreConfig, type SessionStoreConfig } from '../identity/session-revocation.ts';

type Prefixed<P extends string> = {
  [K in `${P}_PORT`]: ReturnType<typeof port>;
} & {
  [K in `${P}_METRICS_PORT`]: ReturnType<typeof optionalPort>;
} & {
  [K in `${P}_DATABASE_URL`]: z.ZodOptional<z.ZodURL>;
} & {
  [K in `${P}_DATA_DIR`]: z.ZodOptional<z.ZodString>;
};

/** A port with no default (port() has one, and zod applies a default even inside optional()). */
const optionalPort = () => z.coerce.number().int().min(0).max(65535).optional();

export function serviceEnv<P extends string>(prefix: P, defaultPort: number) {
  const own = {
    [`${prefix}_PORT`]: port(defaultPort),
    /** Serves GET /metrics on this port instead of <PREFIX>_PORT, e.g. one only the scraper can reach. */
    [`${prefix}_METRICS_PORT`]: optionalPort(),
    /** PostgreSQL URL; without it the service runs on an embedded PGlite under <PREFIX>_DATA_DIR. */
    [`${prefix}_DATABASE_URL`]: z.url().optional(),
    [`${prefix}_DATA_DIR`]: z.string().optional(),
  } as Prefixed<P>;
  return {
    ...commonEnv,
    ...pubsubEnv,
    ...sessionEnv,
    /** The router's public keys, which every subgraph request must be signed with: its JWKS URL or the JWKS itself. */
    ROUTER_JWKS: jwksSourceEnv(`http://localhost:4000${SERVICE_JWKS_PATH}`),
    /** Stream-name prefix on Redis, so deployments sharing one Redis keep their events apart. */
    REDIS_EVENTS_PREFIX: z.string().optional(),
    /** EVENTS_MAX_DELIVERIES, EVENTS_RETRY_AFTER_MS: retries and dead letters (docs/delivery.md). */
    ...eventBusEnv,
    /** Where the catalog generation the router's response cache keys on lives in Redis (docs/response-cache.md). */
    ...responseCacheEnv,
    ...own,
  };
}

/** Where the users service publishes the public keys of the access tokens it issues. */
export const USERS_JWKS_PATH = '/.well-known/jwks.json';

/**
 * For a subgraph that verifies users' access tokens itself (every one but users, which holds the
 * keys): JWKS_URL names the users service's JWKS; without it, the JWKS is found at USERS_URL (the
 * users service's base URL, which the embedded stack sets once users listens). Spread into the
 * service's zod schema; `usersJwksUrl` reads the result.
 */
export const userTokensEnv = {
  JWKS_URL: z.url().optional(),
  /** Base URL of the users service. */
  USERS_URL: z.url().default('http://localhost:4001'),
};

export function usersJwksUrl(e: { JWKS_URL?: string | undefined; USERS_URL: string }): string {
  return e.JWKS_URL ?? new URL(USERS_JWKS_PATH, e.USERS_URL).toString();
}

export interface ServiceConfig {
  port: number;
  /** Where GET /metrics is served when not on `port` (<PREFIX>_METRICS_PORT); absent = on `port`. */
  metricsPort: number | undefined;
  production: boolean;
  logLevel: string;
  /** The router's public keys (ROUTER_JWKS): a JWKS URL or document (service-identity/keys.ts). */
  routerJwks: string;
  /** PostgreSQL; absent = embedded PGlite in dataDir (or in memory without one). */
  databaseUrl: string | undefined;
  dataDir: string | undefined;
  /** Pub/sub and event bus across processes: Redis when set, in process otherwise. */
  redisUrl: string | undefined;
  redisPubSubPrefix: string | undefined;
  redisEventsPrefix: string | undefined;
  /** RESPONSE_CACHE_REDIS_PREFIX: the catalog generation's key in Redis (packages/kit/src/events/catalog-generation.ts). */
  responseCachePrefix: string;
  /** Retries and dead letters of the event bus, for createEventBus (docs/delivery.md). */
  events: EventDeliveryConfig;
  /** Ended sessions every token verifier checks, and the longest token lifetime (session-revocation.ts). */
  sessions: SessionStoreConfig;
}

/** The parsed variables of `serviceEnv` that are not prefixed. */
interface ParsedServiceEnv {
  NODE_ENV: string;
  LOG_LEVEL: string;
  ROUTER_JWKS: string;
  REDIS_URL?: string | undefined;
  REDIS_PUBSUB_PREFIX?: string | undefined;
  REDIS_EVENTS_PREFIX?: string | undefined;
  EVENTS_MAX_DELIVERIES: number;
  EVENTS_RETRY_AFTER_MS: number;
  ACCESS_TOKEN_MAX_LIFETIME_SECONDS: number;
  REDIS_SESSIONS_PREFIX?: string | undefined;
  RESPONSE_CACHE_REDIS_PREFIX: string;
}

export function serviceConfig(prefix: string, e: ParsedServiceEnv): ServiceConfig {
  const own = e as unknown as Record<string, unknown>;
  return {
    port: own[`${prefix}_PORT`] as number,
    metricsPort: own[`${prefix}_METRICS_PORT`] as number | undefined,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    routerJwks: e.ROUTER_JWKS,
    databaseUrl: own[`${prefix}_DATABASE_URL`] as string | undefined,
    dataDir: own[`${prefix}_DATA_DIR`] as string | undefined,
    redisUrl: e.REDIS_URL,
    redisPubSubPrefix: e.REDIS_PUBSUB_PREFIX,
    redisEventsPrefix: e.REDIS_EVENTS_PREFIX,
    responseCachePrefix: e.RESPONSE_CACHE_REDIS_PREFIX,
    events: eventDeliveryConfig(e),
    sessions: sessionStoreConfig(e),
  };
}

/**
 * The event bus a service opens for itself when it is given none: Redis Streams with REDIS_URL,
 * with the delivery settings of its config (docs/delivery.md); in process otherwise.
 */
export function openServiceEventBus(config: ServiceConfig, logger: Logger): EventBus {
  return createEventBus({ redisUrl: config.redisUrl, prefix: config.redisEventsPrefix, logger, ...config.events });
}

/**
 * The catalog generation a service bumps when it is given none (a process of its own): in Redis
 * with REDIS_URL, where the routers read it; without Redis no router can see it, so an in-memory
 * one only keeps the service's code path the same (docs/response-cache.md: the router's cache is
 * then off).
 */
export function openServiceCatalogGeneration(config: ServiceConfig, logger: Logger): CatalogGeneration {
  return createCatalogGeneration({ redisUrl: config.redisUrl, prefix: config.responseCachePrefix, logger });
}
