/**
 * What the deployment files are checked against: the code's own configuration. Which variables a
 * process reads is asked of its config.ts itself (every service reads its environment in one place,
 * docs/service-shape.md), not kept as a list here that could drift: a variable is read when setting
 * it to a probe value either changes the parsed config or is refused by name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig as loadRouterConfig } from '@campus/router/config';
import { loadConfig as loadUsersConfig } from '@campus/users/config';
import { loadConfig as loadCoursesConfig } from '@campus/courses/config';
import { loadConfig as loadPaymentsConfig } from '@campus/payments/config';
import { ConfigError, tracesEndpoint, type Env } from '@campus/kit/core';
import { generateServiceKeyPem, SERVICE_JWKS_PATH } from '@campus/kit/identity';
import { USERS_JWKS_PATH } from '@campus/kit/subgraph';
import YAML from 'yaml';

export const REPO_ROOT = new URL('../../../../', import.meta.url).pathname;
export const readRepoFile = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The subgraphs of supergraph.yaml, the list every deployment must carry, plus the router. */
export const SUBGRAPHS: string[] = Object.keys((YAML.parse(readRepoFile('supergraph.yaml')) as { subgraphs: Record<string, unknown> }).subgraphs);
export const PROCESSES = [...SUBGRAPHS, 'router'];

const loaders: Record<string, (env: Env) => unknown> = {
  router: (env) => loadRouterConfig(env, []),
  users: loadUsersConfig,
  courses: loadCoursesConfig,
  payments: loadPaymentsConfig,
};

/** Values a config would otherwise generate afresh on every load or require in production (keys, the webhook secret), fixed so two loads compare. */
const key = generateServiceKeyPem();
const FIXED: Env = { ROUTER_SIGNING_KEYS: key, PAYMENTS_SIGNING_KEYS: key, USERS_JWT_PRIVATE_KEY: key, PAYMENTS_WEBHOOK_SECRET: 'w'.repeat(40) };

function load(process: string, env: Env): string {
  const loader = loaders[process];
  if (!loader) throw new Error(`no config loader for "${process}": add it to packages/stack/test/deploy/config-probe.ts`);
  // A value the caller does not know (a Secret not rendered) is left to FIXED or the default.
  const known = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
  return JSON.stringify(loader({ ...FIXED, ...known }));
}

/** The variables of tracing (packages/kit/src/core/tracing.ts), read by every process at its entry. */
function readByTracing(name: string): boolean {
  const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.invalid:4318' };
  return (
    tracesEndpoint({ [name]: 'http://probe.invalid:1' }) !== tracesEndpoint({}) ||
    tracesEndpoint({ ...on, [name]: 'true' }) !== tracesEndpoint(on)
  );
}

/** Whether `process` (a subgraph's name or "router") reads the environment variable `name`. */
export function reads(process: string, name: string): boolean {
  if (readByTracing(name)) return true;
  const base = load(process, {});
  try {
    return load(process, { [name]: '__probe__' }) !== base;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.some((p) => p.startsWith(`${name}:`));
    throw e;
  }
}

/** The port `process` listens on when `env` is its environment (its <SERVICE>_PORT, or the default). */
export function listensOn(process: string, env: Env = {}): number {
  return (JSON.parse(load(process, env)) as { port: number }).port;
}

/** Paths where the processes publish keys, which the URLs pointing at them must name. */
export const KEY_PATHS = { service: SERVICE_JWKS_PATH, accessTokens: USERS_JWKS_PATH };

/** A process's entry point, compiled: `src/index.ts` becomes `dist/index.js` (docs/builds.md). */
export function workspaceDir(process: string): string {
  const dir = process === 'router' ? 'router' : `subgraphs/${process}`;
  if (!existsSync(join(REPO_ROOT, dir, 'src', 'index.ts'))) throw new Error(`${dir}/src/index.ts does not exist`);
  return dir;
}
