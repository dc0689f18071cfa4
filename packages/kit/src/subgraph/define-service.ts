/**
 * A subgraph service, declared once (docs/service-shape.md). Each subgraph's src/service.ts exports
 * `defineService({...})`; its own process runs the definition with `runService` (src/index.ts),
 * and the launcher of the embedded default runs the same definitions side by side in one process,
 * handing every one the same shared infrastructure. Neither knows anything else about a service.
 */
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Env } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { waitForRedis } from '../core/redis-at-start.ts';
import { listenOn, runProcess } from '../core/run-process.ts';
import { setupTracing } from '../core/tracing.ts';
import type { CatalogGeneration } from '../events/catalog-generation.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { PubSub } from '../events/pubsub.ts';
import type { SessionRevocations } from '../identity/session-revocation.ts';
import type { TokenVerifier } from '../identity/viewer.ts';
import type { ServiceConfig } from './service-config.ts';
import type { StatementTap } from './statement-tap.ts';
import type { SubgraphServer } from './subgraph-server.ts';

/** What a process creates once and hands to every service it runs (the embedded default). */
export interface SharedInfra {
  /** Carries live updates to subscribers (Redis pub/sub with REDIS_URL, so every instance hears them). */
  pubsub: PubSub;
  /** Carries events between services (outbox -> bus -> consumers). */
  bus: EventBus;
  /** Ended sessions: users records them, the router and every subgraph refuse their tokens. */
  revocations: SessionRevocations;
  /** Bumped by courses and users after catalog changes, read by the router's response cache (docs/response-cache.md). */
  catalogGeneration: CatalogGeneration;
}

/**
 * What a service factory is given. Whatever is absent the service opens for itself from its
 * config, and closes on close: a service in a process of its own is given nothing.
 */
export interface ServiceInfra extends Partial<SharedInfra> {
  /** How access tokens are verified; absent = the users service's keys (config.jwksUrl) or its own. */
  verifyToken?: TokenVerifier;
}

/** What every running service offers, whatever else it exposes (its Prisma client, its domain ...). */
export interface RunningService {
  server: SubgraphServer;
  /** Calls `listener` with every SQL statement the service sends its database; returns an unsubscribe. */
  onStatement: StatementTap['onStatement'];
  /** Stops the server, consumers and relays, then closes what the service opened itself. */
  close(): Promise<void>;
}

/** Rows created, by kind (`{ courses: 60, lessons: 1900, ... }`). */
export type SeedCounts = Record<string, number>;

/**
 * Deterministic demo data (docs/service-shape.md): the same scale writes the same rows, and the
 * seeds of different services agree on ids without reading each other's databases.
 */
export interface ServiceSeed<S> {
  /** The embedded default: seeds a running service whose database holds no data yet; null when it does. */
  ifEmpty(service: S, scale: number): Promise<SeedCounts | null>;
  /** `npm run db:seed` and the process stack: seeds a migrated database; existing rows are kept. */
  into(adapter: SqlDriverAdapterFactory, scale: number): Promise<SeedCounts>;
}

export interface ServiceDefinition<C extends ServiceConfig = ServiceConfig, S extends RunningService = RunningService> {
  /** The same everywhere: folder, package, supergraph.yaml key, env prefix, log field. */
  name: string;
  /** Reads and validates the environment; throws a ConfigError listing every bad variable. */
  loadConfig(env: Env): C;
  /** The committed migrations (Prisma's layout), applied at start and by `npm run db:migrate`. */
  migrationsDir: string;
  /** Opens the database (migrated), builds the domain, starts the server (not listening yet). */
  create(config: C, infra: ServiceInfra, logger: Logger): Promise<S>;
  seed: ServiceSeed<S>;
}

/** Declares a service; the identity function, there for the types. */
export function defineService<C extends ServiceConfig, S extends RunningService>(definition: ServiceDefinition<C, S>): ServiceDefinition<C, S> {
  return definition;
}

/** A service as its own process: config from `env`, nothing shared, listening on config.port. */
export function runService<C extends ServiceConfig, S extends RunningService>(definition: ServiceDefinition<C, S>, env: Env = process.env): Promise<void> {
  return runProcess(definition.name, async () => {
    const config = definition.loadConfig(env);
    // Before the service is built: Prisma's spans need the provider from its first query.
    await setupTracing(definition.name, env);
    const logger = createLogger(definition.name, config.logLevel);
    // Before anything is built on it: a Redis that never answers would otherwise hang the start
    // (a consumer group never created) instead of ending it with one line saying where and why.
    if (config.redisUrl) await waitForRedis(config.redisUrl);
    const service = await definition.create(config, {}, logger);
    await listenOn(service.server.httpServer, config.port);
    logger.info({ port: config.port }, `${definition.name} subgraph listening`);
    return {
      logger,
      close: async () => {
        // /ready answers 503 `draining` from the signal on, while consumers and relays stop first.
        service.server.readiness.drain();
        await service.close();
      },
    };
  });
}
