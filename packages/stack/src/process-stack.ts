/**
 * The production topology for tests: every subgraph and the router as a process of its own (their
 * real entry points, NODE_ENV=production), on throwaway PostgreSQL databases and one Redis — what
 * README.md's production section runs by hand. Nothing is shared in memory between them, so a
 * test sees what separate instances see: revocations, events and counters only travel through
 * Redis and HTTP.
 *
 * Needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets both); `processStackAvailable()` says whether
 * they are set, for `describe.skipIf`. A caller with a PostgreSQL or Redis of its own passes
 * `databaseUrl` / `redisUrl` instead (the fault suite, packages/stack/test/faults/, runs a Redis it
 * can kill), and `processEnv` for variables only one process gets.
 */
import { freePort } from '@campus/test-kit';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '@campus/kit/core';
import { generateServiceKeyPem, SERVICE_JWKS_PATH } from '@campus/kit/identity';
import { openDatabase } from '@campus/kit/subgraph';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { SERVICE_DEFINITIONS } from './services.ts';
import { REPO_ROOT } from './stack.ts';
import { createTestDatabases, testRedisEnv } from '@campus/test-kit/databases';

export const SUBGRAPHS = ['users', 'courses', 'payments'] as const;
export type ProcessName = (typeof SUBGRAPHS)[number] | 'router';

const ENTRY: Record<ProcessName, string> = {
  users: 'subgraphs/users/src/index.ts',
  courses: 'subgraphs/courses/src/index.ts',
  payments: 'subgraphs/payments/src/index.ts',
  router: 'router/src/index.ts',
};

export interface ProcessStack {
  routerUrl: string;
  /** Base URL of each process. */
  urls: Record<ProcessName, string>;
  /** The environment every process was started with (keys, secrets, URLs); `processEnv` comes on top per process. */
  env: Env;
  /** The throwaway PostgreSQL database of each subgraph, by name (for server-side faults and direct reads). */
  databases: Record<(typeof SUBGRAPHS)[number], string>;
  /** Sends `signal` to a process and waits for it to end (SIGKILL for crash tests). */
  kill(name: ProcessName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped process again, on the same port, with the same environment; resolves once it is ready. */
  restart(name: ProcessName): Promise<void>;
  /** The operating-system pid of a running process, undefined while it is stopped. */
  pid(name: ProcessName): number | undefined;
  /** Everything a process wrote to stdout and stderr so far (JSON log lines). */
  output(name: ProcessName): string;
  close(): Promise<void>;
}

export const processStackAvailable = () => Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

/**
 * Resolves once `GET /ready` answers 2xx. A process without a /ready route (404) is taken as ready
 * when `GET /health` answers 200, so the harness works with services that only have liveness.
 * Fails at once when the process exits, and after `timeoutMs`.
 */
export async function waitForReady(name: string, url: string, child: ChildProcess, output: () => string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The last answer, for the error: a 503 from /ready names what is down.
  let last = 'no answer';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output().slice(-3000)}`);
    }
    try {
      const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
      if (ready.ok) return;
      last = `/ready ${ready.status} ${(await ready.text()).slice(0, 500)}`;
      if (ready.status === 404) {
        const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
        if (health.ok) return;
        last = `/health ${health.status} ${(await health.text()).slice(0, 500)}`;
      }
    } catch (e) {
      // Not listening yet.
      last = String((e as { cause?: unknown }).cause ?? e);
    }
    if (Date.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs / 1000} s (last: ${last}):\n${output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** REDIS_URL and prefixes of this stack's own, as testRedisEnv gives them for TEST_REDIS_URL. */
function redisEnv(redisUrl: string | undefined): Env {
  if (!redisUrl) return testRedisEnv();
  const run = `campus-processes-${randomBytes(6).toString('hex')}`;
  return {
    REDIS_URL: redisUrl,
    REDIS_PUBSUB_PREFIX: `${run}:`,
    REDIS_EVENTS_PREFIX: `${run}:events:`,
    RATE_LIMIT_REDIS_PREFIX: `${run}:rate-limit:`,
    REDIS_SESSIONS_PREFIX: `${run}:sessions:`,
  };
}

/** Migrates (and seeds at `seedScale`, 0 for none) each database, as `npm run db:migrate`/`db:seed` do. */
async function prepareDatabases(env: Env, seedScale: number): Promise<void> {
  for (const def of SERVICE_DEFINITIONS) {
    const url = env[`${def.name.toUpperCase()}_DATABASE_URL`]!;
    const db = await openDatabase({ url, migrationsDir: def.migrationsDir });
    try {
      await db.migrate();
      if (seedScale > 0) await def.seed.into(db.adapter, seedScale);
    } finally {
      await db.close();
    }
  }
}

export interface ProcessStackOptions {
  /** Extra environment for every process (limits, TTLs, ...). */
  env?: Env;
  /** Extra environment for one process only, over `env` (e.g. the payments service's timings). */
  processEnv?: Partial<Record<ProcessName, Env>>;
  /** PostgreSQL admin URL the throwaway databases are created with; default TEST_DATABASE_URL. */
  databaseUrl?: string;
  /** Names the databases (`<label>_<service>_<random>`), so a cleanup can find them; default campus_test. */
  databaseLabel?: string;
  /** The Redis every process uses; default TEST_REDIS_URL. */
  redisUrl?: string;
  /** Demo data scale written before the services start (0 = none). */
  seedScale?: number;
}

export async function startProcessStack(options: ProcessStackOptions = {}): Promise<ProcessStack> {
  const { env: extra = {}, processEnv = {}, seedScale = 0.01 } = options;
  const databaseUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL;
  const redisUrl = options.redisUrl ?? process.env.TEST_REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('startProcessStack needs TEST_DATABASE_URL and TEST_REDIS_URL (or databaseUrl and redisUrl)');
  const databases = await createTestDatabases(databaseUrl, [...SUBGRAPHS], options.databaseLabel);
  const databaseNames = Object.fromEntries(
    SUBGRAPHS.map((s) => [s, decodeURIComponent(new URL(databases.env[`${s.toUpperCase()}_DATABASE_URL`]!).pathname.slice(1))]),
  ) as ProcessStack['databases'];
  const dir = mkdtempSync(join(tmpdir(), 'campus-processes-'));
  const children = new Map<ProcessName, ChildProcess>();
  const logs = new Map<ProcessName, string[]>();
  const ports = Object.fromEntries(await Promise.all([...SUBGRAPHS, 'router' as const].map(async (n) => [n, await freePort()]))) as Record<ProcessName, number>;
  const urls = Object.fromEntries(Object.entries(ports).map(([n, p]) => [n, `http://127.0.0.1:${p}`])) as Record<ProcessName, string>;
  const usersKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  const env: Env = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    // Each signing service has a key of its own; the services it calls fetch its public keys by
    // URL, as production does (docs/identity/service-identity.md).
    ROUTER_SIGNING_KEYS: generateServiceKeyPem(),
    PAYMENTS_SIGNING_KEYS: generateServiceKeyPem(),
    ROUTER_JWKS: `${urls.router}${SERVICE_JWKS_PATH}`,
    PAYMENTS_JWKS: `${urls.payments}${SERVICE_JWKS_PATH}`,
    USERS_JWT_PRIVATE_KEY: usersKey,
    PAYMENTS_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('hex')}`,
    PAYMENTS_WEBHOOK_URL: `${urls.payments}/webhooks/payments`,
    ...databases.env,
    ...redisEnv(options.redisUrl),
    ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_PORT`, String(ports[s])])),
    ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_URL`, urls[s]])),
    ROUTER_PORT: String(ports.router),
    JWKS_URL: `${urls.users}/.well-known/jwks.json`,
    // Every test client is 127.0.0.1: the strict budget of one address would be every client's.
    RATE_LIMIT_STRICT_PER_ADDRESS: '10000',
    RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: '10000',
    ...extra,
  };

  const supergraphPath = join(dir, 'supergraph.graphql');
  writeFileSync(
    supergraphPath,
    composeSupergraph(readSupergraphConfig(join(REPO_ROOT, 'supergraph.yaml')).map((s) => ({ ...s, url: `${urls[s.name as ProcessName] ?? s.url}/graphql` }))),
  );

  const start = async (name: ProcessName) => {
    const running = children.get(name);
    if (running && running.exitCode === null && running.signalCode === null) throw new Error(`${name} is already running`);
    const args = ['--conditions=source', '--import', 'tsx', ENTRY[name], ...(name === 'router' ? ['--supergraph', supergraphPath] : [])];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env, ...processEnv[name] }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = logs.get(name) ?? [];
    logs.set(name, lines);
    child.stdout!.on('data', (b: Buffer) => lines.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => lines.push(b.toString()));
    children.set(name, child);
    await waitForReady(name, urls[name], child, () => lines.join(''));
  };

  const kill = async (name: ProcessName, signal: NodeJS.Signals = 'SIGTERM') => {
    const child = children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await ended;
    clearTimeout(timer);
  };

  // If the test process ends without close() (a crash, a worker torn down), no service may outlive
  // it: the next run would find its ports and databases taken. 'exit' handlers run synchronously,
  // so this can only send signals.
  const killAllNow = () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killAllNow);

  const stopAll = async () => {
    for (const name of ['router', ...[...SUBGRAPHS].reverse()] as ProcessName[]) await kill(name);
    process.off('exit', killAllNow);
  };

  try {
    await prepareDatabases(env, seedScale);
    for (const name of SUBGRAPHS) await start(name);
    await start('router');
  } catch (e) {
    await stopAll();
    await databases.drop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    routerUrl: `${urls.router}/graphql`,
    urls,
    env,
    databases: databaseNames,
    kill,
    restart: start,
    pid: (name) => {
      const child = children.get(name);
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    output: (name) => (logs.get(name) ?? []).join(''),
    async close() {
      await stopAll();
      await databases.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
