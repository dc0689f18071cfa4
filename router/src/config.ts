/** The router's configuration, validated in one place. `--supergraph PATH` overrides SUPERGRAPH_PATH. */
import { resolve } from 'node:path';
import { commonEnv, parseEnv, port, type Env } from '@campus/kit';
import { z } from 'zod';

const schema = z.object({
  ...commonEnv,
  ROUTER_PORT: port(4000),
  /** The composed supergraph (`npm run compose` writes router/supergraph.graphql). Reloaded on change. */
  SUPERGRAPH_PATH: z.string().default(new URL('../supergraph.graphql', import.meta.url).pathname),
  /** Where the users service publishes the public keys access tokens are signed with. */
  JWKS_URL: z.url().default('http://localhost:4001/.well-known/jwks.json'),
  /** Comma-separated origins allowed by CORS; "*" allows any (the default outside production). */
  CORS_ORIGINS: z.string().optional(),
  /** Serve Apollo Sandbox to browsers; on by default outside production. */
  ROUTER_SANDBOX: z.enum(['true', 'false']).optional(),
  /** Interval of WebSocket keep-alive pings to clients (ms); a client missing a pong is dropped. 0 disables. */
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).default(12_000),
  /** Reconnect attempts of an upstream subscription socket whose subgraph went away, before the client is told. */
  SUBSCRIPTION_UPSTREAM_RETRIES: z.coerce.number().int().min(0).max(20).default(3),
});

export interface RouterConfig {
  port: number;
  production: boolean;
  logLevel: string;
  supergraphPath: string;
  jwksUrl: string;
  routerSigningSecret: string;
  corsOrigins: string[] | '*';
  sandbox: boolean;
  subscriptions: { keepAliveMs: number; upstreamRetryAttempts: number };
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
    routerSigningSecret: e.ROUTER_SIGNING_SECRET,
    corsOrigins: origins && !origins.includes('*') ? origins : production ? [] : '*',
    sandbox: e.ROUTER_SANDBOX ? e.ROUTER_SANDBOX === 'true' : !production,
    subscriptions: { keepAliveMs: e.WS_KEEPALIVE_MS, upstreamRetryAttempts: e.SUBSCRIPTION_UPSTREAM_RETRIES },
  };
}
