/**
 * startStack: the router and every subgraph in one process, each on its own port. This is the
 * embedded default behind `npm start` (ports 4000-4003, PGlite under .data/) and the harness
 * end-to-end tests use (port 0, in-memory PGlite or throwaway PostgreSQL databases).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger, setupTracing, type Env, type Logger } from '@campus/kit/core';
import { createSessionRevocations, sessionStoreConfigFromEnv } from '@campus/kit/identity';
import { createCatalogGeneration, createEventBus, createPubSub, eventDeliveryConfigFromEnv } from '@campus/kit/events';
import { createRouter, type Router } from '@campus/router';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { loadConfig as loadRouterConfig } from '@campus/router/config';
import { usersJwksUrl, type ServiceDefinition } from '@campus/kit/subgraph';
import { generationState, installedVersions, recordGeneration, type GenerationStep } from '@campus/kit/tooling';
import { serviceIdentityEnv } from './service-keys.ts';
import { SERVICE_DEFINITIONS, type RunningService, type SharedInfra } from './services.ts';

// Defined with the start's early work, which must load without this module (start-early.ts).
export { REPO_ROOT } from './start-early.ts';
import { REPO_ROOT } from './start-early.ts';

export interface StackOptions {
  /** Environment the services' configs are read from (process.env for `npm start`). */
  env: Env;
  /** Router port; subgraph ports come from <NAME>_PORT in env, else 0 (any free port). */
  routerPort: number;
  /** Where embedded databases, keys and the composed supergraph live; absent = in memory. */
  dataDir?: string | undefined;
  logLevel?: string;
  /** Interface to bind; absent = every interface (IPv4 and IPv6), as `npm start` wants for localhost. */
  host?: string;
}

export interface Stack {
  /** The router's GraphQL endpoint. */
  routerUrl: string;
  /** Base URL of the router and of each subgraph, by service name. */
  urls: Record<string, string>;
  services: Record<string, RunningService>;
  router: Router;
  /** The pub/sub and event bus every service of this process shares. */
  shared: SharedInfra;
  /**
   * Stops one service as if its process had ended (its server, consumers and database
   * connections close; its data stays where its database keeps it), and starts it again on the
   * same port. For tests of what survives an outage; embedded in-memory databases do not.
   */
  stopService(name: string): Promise<void>;
  startService(name: string, envOverrides?: Env): Promise<void>;
  supergraphPath: string;
  logger: Logger;
  /** Seeds every service whose database is empty. */
  seedIfEmpty(scale?: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host?: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Runs a definition as the stack does: config from `env`, the shared infrastructure, its seed bound to it. */
async function runDefinition(def: ServiceDefinition, env: Env, logger: Logger, shared: SharedInfra): Promise<RunningService> {
  const service = await def.create(def.loadConfig(env), shared, logger);
  return { ...service, seedIfEmpty: (scale) => def.seed.ifEmpty(service, scale) };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const logLevel = options.logLevel ?? options.env.LOG_LEVEL ?? 'info';
  // One process, one tracer provider: `campus`, each span naming its service (campus.service).
  await setupTracing('campus', options.env);
  const logger = createLogger('stack', logLevel);
  const { dataDir } = options;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // The router and payments sign with keys of their own, the others hold the public halves (service-keys.ts).
  const env: Env = { ...options.env, ...serviceIdentityEnv(options.env, dataDir), LOG_LEVEL: logLevel };

  // Redis when REDIS_URL is set, so instances of a service in other processes hear the same events.
  const shared: SharedInfra = {
    pubsub: createPubSub({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PUBSUB_PREFIX, logger }),
    // Domain events (outbox -> bus -> consumers): Redis Streams with REDIS_URL, in process otherwise.
    bus: createEventBus({ redisUrl: env.REDIS_URL, prefix: env.REDIS_EVENTS_PREFIX, logger, ...eventDeliveryConfigFromEnv(env) }),
    // Ended sessions: one store for the router and every service, so a revocation is refused by all (Redis with REDIS_URL).
    revocations: createSessionRevocations(sessionStoreConfigFromEnv(env), { logger }),
    // Catalog changes, bumped by courses and users, read by the router's response cache (in Redis with REDIS_URL).
    catalogGeneration: createCatalogGeneration({ redisUrl: env.REDIS_URL, prefix: env.RESPONSE_CACHE_REDIS_PREFIX, logger }),
  };
  const services: Record<string, RunningService> = {};
  const urls: Record<string, string> = {};
  const closeAll = async () => {
    for (const s of Object.values(services).reverse()) await s.close();
    await shared.pubsub.close();
    await shared.bus.close();
    await shared.revocations.close();
    await shared.catalogGeneration.close();
  };
  const serviceEnvs: Record<string, Env> = {};
  const ports: Record<string, number> = {};
  try {
    for (const def of SERVICE_DEFINITIONS) {
      const NAME = def.name.toUpperCase();
      const serviceEnv: Env = {
        ...env,
        [`${NAME}_PORT`]: env[`${NAME}_PORT`] ?? '0',
        [`${NAME}_DATA_DIR`]: env[`${NAME}_DATA_DIR`] ?? (dataDir && join(dataDir, def.name)),
      };
      const service = await runDefinition(def, serviceEnv, createLogger(def.name, logLevel), shared);
      services[def.name] = service;
      serviceEnvs[def.name] = serviceEnv;
      urls[def.name] = await listen(service.server.httpServer, Number(serviceEnv[`${NAME}_PORT`]), options.host);
      ports[def.name] = Number(new URL(urls[def.name]!).port);
      // Later services reach earlier ones by URL (payments asks courses for a price; courses and
      // payments find the users service's JWKS at USERS_URL, packages/kit/src/subgraph/service-config.ts).
      env[`${NAME}_URL`] = urls[def.name];
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  // Compose supergraph.yaml with the addresses the subgraphs actually listen on.
  const sources = readSupergraphConfig(join(REPO_ROOT, 'supergraph.yaml')).map((s) => ({
    ...s,
    url: urls[s.name] ? `${urls[s.name]}/graphql` : s.url,
  }));
  const supergraphDir = dataDir ?? join(REPO_ROOT, '.data', 'tmp', `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(supergraphDir, { recursive: true });
  const supergraphPath = join(supergraphDir, 'supergraph.graphql');
  // A restart on the same ports composes the same supergraph: kept beside it, it is reused while
  // the schemas, addresses and composition are unchanged (packages/kit/src/tooling/generation-stamp.ts).
  const composition: GenerationStep = {
    inputs: ['compose.ts', 'planning/federation-adapter.mjs'].map((f) => join(REPO_ROOT, 'router', 'src', f)),
    extra: {
      sources: createHash('sha256').update(JSON.stringify(sources)).digest('hex'),
      ...installedVersions(join(REPO_ROOT, 'router'), ['@apollo/composition', '@apollo/federation-internals']),
    },
    outputs: [supergraphPath],
    stampFile: join(supergraphDir, '.supergraph.stamp.json'),
  };
  if (!dataDir || !generationState(composition).fresh) {
    writeFileSync(supergraphPath, composeSupergraph(sources));
    if (dataDir) recordGeneration(composition);
  }

  const routerConfig = loadRouterConfig({
    ...env,
    SUPERGRAPH_PATH: supergraphPath,
    JWKS_URL: usersJwksUrl({ JWKS_URL: env.JWKS_URL, USERS_URL: urls.users! }),
  });
  const router = createRouter(routerConfig, { logger: createLogger('router', logLevel), revocations: shared.revocations, catalogGeneration: shared.catalogGeneration });
  urls.router = await listen(router.httpServer, options.routerPort, options.host);
  await router.start();

  return {
    routerUrl: `${urls.router}/graphql`,
    urls,
    services,
    router,
    supergraphPath,
    logger,
    shared,
    async stopService(name) {
      const service = services[name];
      if (!service) throw new Error(`No running service ${name}`);
      delete services[name];
      await service.close();
    },
    async startService(name, overrides = {}) {
      const def = SERVICE_DEFINITIONS.find((d) => d.name === name);
      if (!def || services[name]) throw new Error(`Cannot start ${name}: unknown or already running`);
      const service = await runDefinition(def, { ...serviceEnvs[name]!, ...overrides }, createLogger(name, logLevel), shared);
      services[name] = service;
      // Same port as before, so the router's supergraph still points at it.
      await listen(service.server.httpServer, ports[name]!, options.host);
    },
    async seedIfEmpty(scale = 1) {
      const created: Record<string, number> = {};
      for (const s of Object.values(services)) Object.assign(created, await s.seedIfEmpty(scale));
      return created;
    },
    async close() {
      await router.stop();
      await closeAll();
    },
  };
}
