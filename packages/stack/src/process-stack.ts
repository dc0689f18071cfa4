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
 *
 * Scale-out (packages/stack/test/scale-out/): `instances: n` starts n instances of every process,
 * in n lanes. Instance k of each subgraph and router k form lane k: router k's supergraph names the
 * subgraphs of lane k, and every URL a process is given (JWKS, the webhook target, courses and users
 * for payments) is one of its own lane, so each lane is a whole stack on its own and only PostgreSQL
 * and Redis are shared between lanes. `compiled: true` runs each workspace's compiled build
 * (`dist/index.js` with plain node, what `npm start -w <workspace>` runs; docs/builds.md) instead
 * of its TypeScript sources through tsx.
 */
import { freePort } from '@campus/test-kit';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
/** One instance of a process: `users#2` is the second; a bare `users` is `users#1`. */
export type InstanceName = ProcessName | `${ProcessName}#${number}`;
const PROCESSES: ProcessName[] = [...SUBGRAPHS, 'router'];

/** Each process's workspace: its sources are `src/index.ts`, its build `dist/index.js`. */
const WORKSPACE: Record<ProcessName, string> = {
  users: 'subgraphs/users',
  courses: 'subgraphs/courses',
  payments: 'subgraphs/payments',
  router: 'router',
};

/**
 * How a process is started: its sources through tsx from the repository root (with the `source`
 * condition, docs/builds.md), or its build with plain node from its workspace, as `npm start -w`.
 */
function command(name: ProcessName, compiled: boolean): { args: string[]; cwd: string } {
  if (!compiled) return { args: ['--conditions=source', '--import', 'tsx', join(WORKSPACE[name], 'src/index.ts')], cwd: REPO_ROOT };
  const cwd = join(REPO_ROOT, WORKSPACE[name]);
  // No output means no build ran. Stale output is the caller's to prevent: test:scale-out builds first.
  if (!existsSync(join(cwd, 'dist/index.js'))) throw new Error(`${WORKSPACE[name]}/dist/index.js is missing: run \`npm run build\` first`);
  return { args: ['dist/index.js'], cwd };
}

function parseInstance(name: InstanceName, instances: number): { proc: ProcessName; index: number } {
  const [proc, n = '1'] = name.split('#') as [ProcessName, string?];
  const index = Number(n) - 1;
  if (!PROCESSES.includes(proc) || !Number.isInteger(index) || index < 0 || index >= instances) throw new Error(`no process ${name} in this stack`);
  return { proc, index };
}

export interface ProcessStack {
  /** The first router's /graphql. */
  routerUrl: string;
  /** Every router's /graphql, one per lane (`routerUrls[0]` is `routerUrl`). */
  routerUrls: string[];
  /** Base URL of each process (the first instance of each). */
  urls: Record<ProcessName, string>;
  /** Base URLs of every instance of each process, by lane. */
  instanceUrls: Record<ProcessName, string[]>;
  /**
   * The environment the first lane's processes were started with (keys, secrets, URLs);
   * `processEnv` comes on top per process. Other lanes differ only in their own ports and URLs.
   */
  env: Env;
  /** The throwaway PostgreSQL database of each subgraph, by name (for server-side faults and direct reads). */
  databases: Record<(typeof SUBGRAPHS)[number], string>;
  /** Sends `signal` to a process and waits for it to end (SIGKILL for crash tests). */
  kill(name: InstanceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped process again, on the same port, with the same environment; resolves once it is ready. */
  restart(name: InstanceName): Promise<void>;
  /** The operating-system pid of a running process, undefined while it is stopped. */
  pid(name: InstanceName): number | undefined;
  /** Everything a process wrote to stdout and stderr so far (JSON log lines). */
  output(name: InstanceName): string;
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
    RESPONSE_CACHE_REDIS_PREFIX: `${run}:response-cache:`,
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
  /** Extra environment for one process only (every instance of it), over `env` (e.g. the payments service's timings). */
  processEnv?: Partial<Record<ProcessName, Env>>;
  /** PostgreSQL admin URL the throwaway databases are created with; default TEST_DATABASE_URL. */
  databaseUrl?: string;
  /** Names the databases (`<label>_<service>_<random>`), so a cleanup can find them; default campus_test. */
  databaseLabel?: string;
  /** The Redis every process uses; default TEST_REDIS_URL. */
  redisUrl?: string;
  /** Demo data scale written before the services start (0 = none). */
  seedScale?: number;
  /** Instances of every process, one lane each (see the top of this file); default 1. */
  instances?: number;
  /** Run each workspace's `dist/index.js` with plain node (`npm run build` first) instead of its sources; default false. */
  compiled?: boolean;
}

/** Ports and URLs of one lane: what differs between instance k of a process and instance k+1. */
function laneEnv(urls: Record<ProcessName, string>): Env {
  return {
    ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_PORT`, new URL(urls[s]).port])),
    ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_URL`, urls[s]])),
    ROUTER_PORT: new URL(urls.router).port,
    ROUTER_JWKS: `${urls.router}${SERVICE_JWKS_PATH}`,
    PAYMENTS_JWKS: `${urls.payments}${SERVICE_JWKS_PATH}`,
    PAYMENTS_WEBHOOK_URL: `${urls.payments}/webhooks/payments`,
    JWKS_URL: `${urls.users}/.well-known/jwks.json`,
  };
}

/** One running (or stopped) instance: how to start it, its child and everything it wrote. */
interface Instance {
  name: string;
  url: string;
  args: string[];
  cwd: string;
  env: Env;
  child?: ChildProcess;
  lines: string[];
}

const running = (child: ChildProcess | undefined): child is ChildProcess => Boolean(child && child.exitCode === null && child.signalCode === null);

export async function startProcessStack(options: ProcessStackOptions = {}): Promise<ProcessStack> {
  const { env: extra = {}, processEnv = {}, seedScale = 0.01, instances = 1, compiled = false } = options;
  if (!Number.isInteger(instances) || instances < 1) throw new Error(`instances must be a positive integer, not ${instances}`);
  const databaseUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL;
  const redisUrl = options.redisUrl ?? process.env.TEST_REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('startProcessStack needs TEST_DATABASE_URL and TEST_REDIS_URL (or databaseUrl and redisUrl)');
  const commands = Object.fromEntries(PROCESSES.map((n) => [n, command(n, compiled)])) as Record<ProcessName, ReturnType<typeof command>>;
  const databases = await createTestDatabases(databaseUrl, [...SUBGRAPHS], options.databaseLabel);
  const databaseNames = Object.fromEntries(
    SUBGRAPHS.map((s) => [s, decodeURIComponent(new URL(databases.env[`${s.toUpperCase()}_DATABASE_URL`]!).pathname.slice(1))]),
  ) as ProcessStack['databases'];
  const dir = mkdtempSync(join(tmpdir(), 'campus-processes-'));
  const lanes = Array.from({ length: instances }, (_, i) => i);
  const laneUrls = await Promise.all(
    lanes.map(async () => {
      const ports = await Promise.all(PROCESSES.map(() => freePort()));
      return Object.fromEntries(PROCESSES.map((n, i) => [n, `http://127.0.0.1:${ports[i]}`])) as Record<ProcessName, string>;
    }),
  );
  const usersKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  // What every instance of every process shares: keys, secrets, databases, Redis, limits. Keys are
  // the same in every lane, as replicas of one deployment share them (a token or a signed request
  // from any instance is good at every other).
  const shared: Env = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    // Each signing service has a key of its own; the services it calls fetch its public keys by
    // URL, as production does (docs/identity/service-identity.md).
    ROUTER_SIGNING_KEYS: generateServiceKeyPem(),
    PAYMENTS_SIGNING_KEYS: generateServiceKeyPem(),
    USERS_JWT_PRIVATE_KEY: usersKey,
    PAYMENTS_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('hex')}`,
    ...databases.env,
    ...redisEnv(options.redisUrl),
    // Every test client is 127.0.0.1: the strict budget of one address would be every client's.
    RATE_LIMIT_STRICT_PER_ADDRESS: '10000',
    RATE_LIMIT_WS_CONNECTIONS_PER_ADDRESS: '10000',
  };
  const envOf = (lane: number): Env => ({ ...shared, ...laneEnv(laneUrls[lane]!), ...extra });

  // Each router's supergraph names the subgraphs of its own lane.
  const sources = readSupergraphConfig(join(REPO_ROOT, 'supergraph.yaml'));
  const supergraphPaths = lanes.map((lane) => {
    const path = join(dir, instances === 1 ? 'supergraph.graphql' : `supergraph-${lane + 1}.graphql`);
    writeFileSync(path, composeSupergraph(sources.map((s) => ({ ...s, url: `${laneUrls[lane]![s.name as ProcessName] ?? s.url}/graphql` }))));
    return path;
  });

  const all = new Map<string, Instance>();
  for (const name of PROCESSES) {
    for (const lane of lanes) {
      const { args, cwd } = commands[name];
      all.set(`${name}#${lane + 1}`, {
        name: instances === 1 ? name : `${name}#${lane + 1}`,
        url: laneUrls[lane]![name],
        args: [...args, ...(name === 'router' ? ['--supergraph', supergraphPaths[lane]!] : [])],
        cwd,
        env: { ...envOf(lane), ...processEnv[name] },
        lines: [],
      });
    }
  }
  const instance = (name: InstanceName): Instance => {
    const { proc, index } = parseInstance(name, instances);
    return all.get(`${proc}#${index + 1}`)!;
  };

  const start = async (name: InstanceName) => {
    const it = instance(name);
    if (running(it.child)) throw new Error(`${it.name} is already running`);
    const child = spawn(process.execPath, it.args, { cwd: it.cwd, env: { ...process.env, ...it.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => it.lines.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => it.lines.push(b.toString()));
    it.child = child;
    await waitForReady(it.name, it.url, child, () => it.lines.join(''));
  };

  const kill = async (name: InstanceName, signal: NodeJS.Signals = 'SIGTERM') => {
    const child = instance(name).child;
    if (!running(child)) return;
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
    for (const { child } of all.values()) if (running(child)) child.kill('SIGKILL');
  };
  process.on('exit', killAllNow);

  const eachInstance = (name: ProcessName) => lanes.map((lane) => `${name}#${lane + 1}` as InstanceName);
  const stopAll = async () => {
    for (const name of ['router', ...[...SUBGRAPHS].reverse()] as ProcessName[]) await Promise.all(eachInstance(name).map((n) => kill(n)));
    process.off('exit', killAllNow);
  };

  try {
    await prepareDatabases(shared, seedScale);
    // In start order (services.ts), the instances of one process side by side.
    for (const name of PROCESSES) await Promise.all(eachInstance(name).map(start));
  } catch (e) {
    await stopAll();
    await databases.drop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    routerUrl: `${laneUrls[0]!.router}/graphql`,
    routerUrls: laneUrls.map((u) => `${u.router}/graphql`),
    urls: laneUrls[0]!,
    instanceUrls: Object.fromEntries(PROCESSES.map((n) => [n, laneUrls.map((u) => u[n])])) as Record<ProcessName, string[]>,
    env: envOf(0),
    databases: databaseNames,
    kill,
    restart: start,
    pid: (name) => {
      const child = instance(name).child;
      return running(child) ? child.pid : undefined;
    },
    output: (name) => instance(name).lines.join(''),
    async close() {
      await stopAll();
      await databases.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
