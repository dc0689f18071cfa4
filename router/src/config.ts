/** The router's configuration, validated in one place. `--supergraph PATH` overrides SUPERGRAPH_PATH. */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { commonEnv, parseEnv, port, type Env } from '@campus/kit/core';
import { responseCacheEnv } from '@campus/kit/events';
import { generateServiceKeyPem, sessionEnv, sessionStoreConfig, signingKeysEnv, type SessionStoreConfig } from '@campus/kit/identity';
import { z } from 'zod';
import type { OperationLimitsConfig } from './edge/limits.ts';
import type { RateLimitsConfig } from './edge/rate-limits.ts';
import type { ResponseCacheConfig } from './response-cache/response-cache.ts';
import { parseTrustProxy, trustProxyProblem, type TrustProxySetting } from './edge/trust-proxy.ts';
import type { TrustedDocumentsConfig } from './edge/trusted-documents.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  ...commonEnv,
  /** Token lifetime and the shared list of ended sessions (docs/identity/sessions.md); Redis with REDIS_URL below. */
  ...sessionEnv,
  ROUTER_PORT: port(4000),
  /** The composed supergraph (`npm run compose` writes router/supergraph.graphql). Reloaded on change. */
  SUPERGRAPH_PATH: z.string().default(new URL('../supergraph.graphql', import.meta.url).pathname),
  /** Where the users service publishes the public keys access tokens are signed with. */
  JWKS_URL: z.url().default('http://localhost:4001/.well-known/jwks.json'),
  /**
   * PKCS#8 PEM Ed25519 private keys the router signs subgraph requests with; the first signs, all
   * are published at /.well-known/service-jwks.json (docs/identity/service-identity.md). Required
   * in production; generated per process otherwise.
   */
  ROUTER_SIGNING_KEYS: signingKeysEnv().optional(),
  /** Comma-separated origins allowed by CORS; "*" allows any (the default outside production). */
  CORS_ORIGINS: z.string().optional(),
  /** Serve Apollo Sandbox to browsers; on by default outside production. */
  ROUTER_SANDBOX: z.enum(['true', 'false']).optional(),
  /** Interval of WebSocket keep-alive pings to clients (ms); a client missing a pong is dropped. 0 disables. */
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).default(12_000),
  /** Reconnect attempts of an upstream subscription socket whose subgraph went away, before the client is told. */
  SUBSCRIPTION_UPSTREAM_RETRIES: z.coerce.number().int().min(0).max(20).default(3),

  // --- client address and rate limits (docs/edge/rate-limits.md) ---
  /** Proxies whose X-Forwarded-For is believed, in Express's `trust proxy` syntax; unset = none (the socket's peer is the client). */
  TRUST_PROXY: z
    .string()
    .superRefine((v, ctx) => {
      const problem = trustProxyProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Redis shared by every router instance for rate-limit counters; unset = counted in memory. */
  REDIS_URL: z.url().optional(),
  /** Key prefix of the counters in Redis, so deployments (and test runs) sharing one Redis keep apart. */
  RATE_LIMIT_REDIS_PREFIX: z.string().default('campus:rate-limit:'),
  RATE_LIMIT_ENABLED: z.enum(['true', 'false']).default('true'),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt(60),
  RATE_LIMIT_PER_ADDRESS: positiveInt(1_200),
  RATE_LIMIT_PER_USER: positiveInt(600),
  /** Root mutation fields of the strict class, comma-separated; each selection (alias) is one point. */
  RATE_LIMIT_STRICT_FIELDS: z
    .string()
    .regex(/^\s*[_A-Za-z]\w*\s*(,\s*[_A-Za-z]\w*\s*)*$/, 'must be field names separated by commas, e.g. "signUp,logIn"')
    .default('signUp,logIn,refreshSession,changePassword,checkout'),
  RATE_LIMIT_STRICT_WINDOW_SECONDS: positiveInt(600),
  RATE_LIMIT_STRICT_PER_ADDRESS: positiveInt(15),
  RATE_LIMIT_STRICT_PER_USER: positiveInt(15),
  RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: positiveInt(100),
  RATE_LIMIT_WS_OPERATIONS_IN_FLIGHT: positiveInt(50),
  RATE_LIMIT_WS_OPERATIONS_PER_SECOND: positiveInt(50),

  // --- subgraph fetches (docs/edge/subgraph-fetches.md): timeouts, breaker, request deadline, merging ---
  /** Longest wait for one subgraph fetch, headers and body (ms); then SUBGRAPH_UNAVAILABLE. */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Per-subgraph overrides of SUBGRAPH_TIMEOUT_MS, by service name: "payments=5000,courses=3000". */
  SUBGRAPH_TIMEOUTS: z
    .string()
    .regex(/^\s*[\w-]+\s*=\s*[1-9]\d*\s*(,\s*[\w-]+\s*=\s*[1-9]\d*\s*)*$/, 'must be name=milliseconds pairs separated by commas, e.g. "payments=5000,courses=3000"')
    .transform((list) => Object.fromEntries(list.split(',').map((pair) => pair.split('=').map((s) => s.trim())).map(([name, ms]) => [name!, Number(ms)])))
    .default({}),
  /** Consecutive failed fetches (timeouts, connection errors, 502/503/504) that open a subgraph's circuit breaker. */
  SUBGRAPH_BREAKER_FAILURES: z.coerce.number().int().positive().default(5),
  /** How long an open breaker fails fetches fast before letting one through to test the subgraph (ms). */
  SUBGRAPH_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(10_000),
  /** Time all subgraph fetches of one request share (ms), from its first fetch; then GATEWAY_TIMEOUT. */
  ROUTER_REQUEST_DEADLINE_MS: z.coerce.number().int().positive().default(15_000),
  /**
   * Merge a query fetch identical to one in flight (same subgraph, body and Authorization) into it
   * instead of sending it again (subgraph-dedup.ts). On by default: the key holds the caller's
   * authorization, so viewers never share an answer, and mutations are never merged.
   */
  SUBGRAPH_DEDUP: z.enum(['true', 'false']).default('true'),

  // --- trusted documents (docs/edge/trusted-documents.md) ---
  /** off: any operation; log: any, unlisted ones logged at warn; enforce: only the manifest's operations. */
  TRUSTED_DOCUMENTS: z.enum(['off', 'log', 'enforce']).default('off'),
  /** Apollo persisted-query manifest (`npm run build:persisted-queries` writes router/persisted-queries.json). */
  TRUSTED_DOCUMENTS_MANIFEST: z.string().default(new URL('../persisted-queries.json', import.meta.url).pathname),

  // --- operation limits (docs/edge.md): checked before planning, on HTTP and WebSocket ---
  LIMIT_MAX_TOKENS: positiveInt(2_000),
  LIMIT_MAX_DEPTH: positiveInt(12),
  LIMIT_MAX_ALIASES: positiveInt(30),
  LIMIT_MAX_ROOT_FIELDS: positiveInt(20),
  LIMIT_MAX_DIRECTIVES: positiveInt(30),
  /** Largest JSON response the router sends (bytes); larger ones are replaced by RESPONSE_TOO_LARGE. */
  LIMIT_MAX_RESPONSE_BYTES: positiveInt(4 * 1024 * 1024),
  /** Demand control: the highest estimated cost an operation may have. */
  DEMAND_CONTROL_MAX_COST: positiveInt(10_000),
  /** Assumed length of a list field with neither @listSize nor a paging argument. */
  DEMAND_CONTROL_DEFAULT_LIST_SIZE: positiveInt(10),
  /** Time one query plan may take (ms) before the request fails with QUERY_PLANNING_TIMEOUT. */
  QUERY_PLAN_TIMEOUT_MS: positiveInt(2_000),
  /** Planner threads: each plans one new operation at a time (known operations are cached). */
  QUERY_PLANNER_THREADS: positiveInt(1),
  /** A planner thread with nothing new to plan for this long (ms) ends; the next new operation starts one (planning/planner-pool.ts). */
  QUERY_PLANNER_IDLE_EXIT_MS: positiveInt(5_000),
  /** manifest: plan the persisted-query manifest's operations before /ready (planning/warm-plans.ts); off: plan on first use. */
  QUERY_PLAN_WARMUP: z.enum(['manifest', 'off']).default('manifest'),

  // --- processes (docs/readiness.md, "Workers") ---
  /**
   * Answer the common POST (an operation seen before, a plain JSON body) without Apollo Server's
   * request pipeline, with the same checks and the same answer (fast-path/fast-path.ts). Off, every
   * request goes through Apollo Server: for comparing the two (bench/gateways.ts, its tests).
   */
  ROUTER_FAST_PATH: z.enum(['true', 'false']).default('true'),
  /**
   * Which executor runs query plans: `own`, the router's (planning/plan-executor/), the same answers
   * for less CPU, handing what it does not cover to the gateway's; `gateway`, @apollo/gateway's
   * executeQueryPlan for every plan: for comparing the two (bench/gateways.ts, the tests).
   */
  ROUTER_PLAN_EXECUTOR: z.enum(['own', 'gateway']).default('own'),
  /** Router processes sharing ROUTER_PORT (node:cluster, router/src/cluster/): a number, or "auto" for one per available core. 1 = one process, no cluster. */
  ROUTER_WORKERS: z
    .string()
    .trim()
    .regex(/^(auto|[1-9]\d{0,2})$/, 'must be a number of worker processes (1 to 999) or "auto" (one per available core)')
    .default('1')
    .transform((v) => (v === 'auto' ? availableParallelism() : Number(v))),

  // --- response cache (docs/response-cache.md) ---
  /**
   * Cache anonymous PUBLIC query answers, keyed on the catalog generation. Takes effect only where a
   * change is seen by this router: the embedded stack (one process) or REDIS_URL; otherwise off.
   */
  RESPONSE_CACHE: z.enum(['true', 'false']).default('true'),
  /** Largest size of the in-memory cache (without REDIS_URL), in MiB. */
  RESPONSE_CACHE_MEMORY_MB: positiveInt(64),
  /** Key prefix of cached answers and of the catalog generation in Redis (shared with the subgraphs). */
  ...responseCacheEnv,

  // --- metrics (docs/observability.md) ---
  /** Serve GET /metrics on this port instead of the router's own (then not on the public port); 0 = any free port. */
  ROUTER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Distinct operation names the metrics label by; later names count as "other" (observability/metrics.ts). */
  ROUTER_METRICS_OPERATION_NAMES: z.coerce.number().int().min(0).default(100),
})
  // Generated keys differ per instance and restart: subgraphs would refuse the other instances.
  .refine((e) => !(e.NODE_ENV === 'production' && !e.ROUTER_SIGNING_KEYS), {
    path: ['ROUTER_SIGNING_KEYS'],
    message: 'is required in production (PKCS#8 PEM of an Ed25519 key)',
    // Checked even when other variables are bad, so every problem is listed at once.
    when: () => true,
  });

export interface RouterConfig {
  port: number;
  production: boolean;
  logLevel: string;
  supergraphPath: string;
  jwksUrl: string;
  /** Ended sessions the router checks every token against, and the longest token lifetime. */
  sessions: SessionStoreConfig;
  /** PEM private keys the router signs subgraph requests with; the first signs (service-identity/keys.ts). */
  signingKeys: string[];
  corsOrigins: string[] | '*';
  sandbox: boolean;
  subscriptions: { keepAliveMs: number; upstreamRetryAttempts: number };
  /** Express's `trust proxy` value; HTTP and WebSocket derive the client address from it alike. */
  trustProxy: TrustProxySetting;
  rateLimits: RateLimitsConfig;
  /** Timeouts, breaker and deadline of subgraph fetches (subgraph-resilience.ts), and whether identical ones in flight merge (subgraph-dedup.ts). */
  subgraphs: {
    timeoutMs: number;
    timeoutsByName: Record<string, number>;
    breakerFailures: number;
    breakerHalfOpenMs: number;
    requestDeadlineMs: number;
    dedup: boolean;
  };
  /** Which operations run at all, and the manifest that lists them (edge/trusted-documents.ts). */
  trustedDocuments: TrustedDocumentsConfig;
  limits: OperationLimitsConfig & { maxResponseBytes: number };
  demandControl: { maxCost: number; defaultListSize: number };
  planner: { timeoutMs: number; workers: number; idleExitMs: number; warmup: 'manifest' | 'off' };
  /** ROUTER_FAST_PATH: the common POST answered without Apollo Server's pipeline (fast-path/fast-path.ts). */
  fastPath: boolean;
  /** ROUTER_PLAN_EXECUTOR: the router's own plan executor, or the gateway's (planning/plan-executor/). */
  planExecutor: 'own' | 'gateway';
  /** Processes serving ROUTER_PORT: 1 is the router itself; more, a primary supervising that many workers (cluster/primary.ts). */
  workers: number;
  /** Caching of anonymous public answers (response-cache/response-cache.ts). */
  responseCache: ResponseCacheConfig;
  /** Where /metrics is served (undefined: on the router's own port) and how many operation names it labels by. */
  metrics: { port: number | undefined; maxOperationNames: number };
}

export function loadConfig(env: Env, argv: string[] = []): RouterConfig {
  const flag = argv.indexOf('--supergraph');
  const fromFlag = flag >= 0 ? argv[flag + 1] : undefined;
  const e = parseEnv(schema, { ...env, ...(fromFlag ? { SUPERGRAPH_PATH: fromFlag } : {}) });
  const production = e.NODE_ENV === 'production';
  const origins = e.CORS_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean);
  return {
    port: e.ROUTER_PORT,
    production,
    logLevel: e.LOG_LEVEL,
    supergraphPath: resolve(e.SUPERGRAPH_PATH),
    jwksUrl: e.JWKS_URL,
    sessions: sessionStoreConfig(e),
    signingKeys: e.ROUTER_SIGNING_KEYS ?? [generateServiceKeyPem()],
    corsOrigins: origins && !origins.includes('*') ? origins : production ? [] : '*',
    sandbox: e.ROUTER_SANDBOX ? e.ROUTER_SANDBOX === 'true' : !production,
    subscriptions: { keepAliveMs: e.WS_KEEPALIVE_MS, upstreamRetryAttempts: e.SUBSCRIPTION_UPSTREAM_RETRIES },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    rateLimits: {
      enabled: e.RATE_LIMIT_ENABLED === 'true',
      general: { windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS, perAddress: e.RATE_LIMIT_PER_ADDRESS, perUser: e.RATE_LIMIT_PER_USER },
      strict: {
        fields: e.RATE_LIMIT_STRICT_FIELDS.split(',').map((f) => f.trim()),
        windowSeconds: e.RATE_LIMIT_STRICT_WINDOW_SECONDS,
        perAddress: e.RATE_LIMIT_STRICT_PER_ADDRESS,
        perUser: e.RATE_LIMIT_STRICT_PER_USER,
      },
      websocket: {
        connectionsPerAddress: e.RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS,
        operationsInFlightPerConnection: e.RATE_LIMIT_WS_OPERATIONS_IN_FLIGHT,
        operationsPerSecondPerConnection: e.RATE_LIMIT_WS_OPERATIONS_PER_SECOND,
      },
      redis: { url: e.REDIS_URL, prefix: e.RATE_LIMIT_REDIS_PREFIX },
    },
    subgraphs: {
      timeoutMs: e.SUBGRAPH_TIMEOUT_MS,
      timeoutsByName: e.SUBGRAPH_TIMEOUTS,
      breakerFailures: e.SUBGRAPH_BREAKER_FAILURES,
      breakerHalfOpenMs: e.SUBGRAPH_BREAKER_HALF_OPEN_MS,
      requestDeadlineMs: e.ROUTER_REQUEST_DEADLINE_MS,
      dedup: e.SUBGRAPH_DEDUP === 'true',
    },
    trustedDocuments: { mode: e.TRUSTED_DOCUMENTS, manifestPath: resolve(e.TRUSTED_DOCUMENTS_MANIFEST) },
    limits: {
      maxTokens: e.LIMIT_MAX_TOKENS,
      maxDepth: e.LIMIT_MAX_DEPTH,
      maxAliases: e.LIMIT_MAX_ALIASES,
      maxRootFields: e.LIMIT_MAX_ROOT_FIELDS,
      maxDirectives: e.LIMIT_MAX_DIRECTIVES,
      maxResponseBytes: e.LIMIT_MAX_RESPONSE_BYTES,
    },
    demandControl: { maxCost: e.DEMAND_CONTROL_MAX_COST, defaultListSize: e.DEMAND_CONTROL_DEFAULT_LIST_SIZE },
    planner: { timeoutMs: e.QUERY_PLAN_TIMEOUT_MS, workers: e.QUERY_PLANNER_THREADS, idleExitMs: e.QUERY_PLANNER_IDLE_EXIT_MS, warmup: e.QUERY_PLAN_WARMUP },
    fastPath: e.ROUTER_FAST_PATH === 'true',
    planExecutor: e.ROUTER_PLAN_EXECUTOR,
    workers: e.ROUTER_WORKERS,
    responseCache: {
      enabled: e.RESPONSE_CACHE === 'true',
      redisUrl: e.REDIS_URL,
      prefix: e.RESPONSE_CACHE_REDIS_PREFIX,
      maxMemoryBytes: e.RESPONSE_CACHE_MEMORY_MB * 1024 * 1024,
    },
    metrics: { port: e.ROUTER_METRICS_PORT, maxOperationNames: e.ROUTER_METRICS_OPERATION_NAMES },
  };
}
