/**
 * README.md's production section, command by command, in a fresh copy of the repository (nothing
 * generated or compiled yet, as right after `npm ci`), against this machine's PostgreSQL and Redis
 * (TEST_DATABASE_URL, TEST_REDIS_URL; skipped without them): signing keys from
 * `npm run service-keys`, `npm run db:migrate`, `npm run db:seed`, `npm run build`, then each
 * subgraph and the router as its own process with `npm start -w <workspace>` (`node dist/index.js`,
 * no tsx), checked by /ready (docs/readiness.md) and a sign-in through the router. The databases are throwaway ones,
 * the Redis keys carry a prefix of this run's own, and the ports are free ones rather than
 * 4000-4003, so the test can run beside `npm start`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { createTestDatabases, logIn, testRedisEnv, waitFor, type TestDatabases, freePort } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyRepository, type RepoCopy } from './repo-copy.ts';

const SUBGRAPHS = ['users', 'courses', 'payments'] as const;
const configured = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

/** The environment of every command: what the README exports, nothing of this test process's loaders. */
let env: Record<string, string | undefined>;
let databases: TestDatabases | undefined;
let repo: RepoCopy | undefined;
const processes: ChildProcess[] = [];
const ports: Record<string, number> = {};

function npm(args: string[]): string {
  const run = spawnSync('npm', args, { cwd: repo!.dir, env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** `npm start -w <workspace>` in its own process group, so that stopping it stops node too. */
function start(workspace: string, args: string[] = []): ChildProcess {
  const child = spawn('npm', ['start', '-w', workspace, ...(args.length ? ['--', ...args] : [])], { cwd: repo!.dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  child.on('exit', (code) => {
    if (code && !child.killed) console.error(`${workspace} exited ${code}:\n${output}`);
  });
  processes.push(child);
  return child;
}

async function healthy(name: string) {
  await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${ports[name]}/ready`).catch(() => undefined);
      return response?.ok;
    },
    `${name} /ready`,
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

describe.skipIf(!configured)("README.md's production section", () => {
  beforeAll(async () => {
    repo = copyRepository('production');
    databases = await createTestDatabases(process.env.TEST_DATABASE_URL, [...SUBGRAPHS], 'campus_production');
    for (const name of ['router', ...SUBGRAPHS]) ports[name] = await freePort();
    const { NODE_OPTIONS: _loaders, ...inherited } = process.env;
    env = { ...inherited, ...databases.env, ...testRedisEnv('campus-production') };
  });

  afterAll(async () => {
    for (const child of processes) if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
    await Promise.all(processes.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await databases?.drop();
    repo?.remove();
  });

  test('service keys, migrate, seed, build, then every service from dist/ behind the router', async () => {
    // As after `npm ci`: nothing generated, nothing compiled.
    expect(['subgraphs/users/src/generated', 'router/dist', 'router/supergraph.graphql'].filter((p) => existsSync(join(repo!.dir, p)))).toEqual([]);

    // npm run -s service-keys -- generate > router-key.pem (and the others)
    const keys = Object.fromEntries(['router', 'payments', 'users'].map((k) => [k, npm(['run', '-s', 'service-keys', '--', 'generate'])]));
    for (const key of Object.values(keys)) expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    Object.assign(env, { ROUTER_SIGNING_KEYS: keys.router, PAYMENTS_SIGNING_KEYS: keys.payments, USERS_JWT_PRIVATE_KEY: keys.users });

    npm(['run', 'db:migrate']);
    expect(npm(['run', 'db:seed'])).toMatch(/users: seeded/);
    npm(['run', 'build']);

    // Free ports instead of 4000-4003: each service's port, and where the others find it.
    const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
    Object.assign(env, {
      ROUTER_PORT: String(ports.router),
      ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_PORT`, String(ports[s])])),
      ROUTER_JWKS: `${url('router')}/.well-known/service-jwks.json`,
      PAYMENTS_JWKS: `${url('payments')}/.well-known/service-jwks.json`,
      JWKS_URL: `${url('users')}/.well-known/jwks.json`,
      USERS_URL: url('users'),
    });
    for (const s of SUBGRAPHS) {
      expect(JSON.parse(readFileSync(join(repo!.dir, 'subgraphs', s, 'package.json'), 'utf8')).scripts.start).toBe('node dist/index.js');
      start(`@campus/${s}`);
    }
    for (const s of SUBGRAPHS) await healthy(s);

    // The router on the supergraph `npm run build` composed, with these ports' URLs.
    const supergraph = join(repo!.dir, '.data', 'supergraph.graphql');
    mkdirSync(dirname(supergraph), { recursive: true });
    const sources = readSupergraphConfig(join(repo!.dir, 'supergraph.yaml'));
    writeFileSync(supergraph, composeSupergraph(sources.map((s) => ({ ...s, url: `${url(s.name)}/graphql` }))));
    expect(JSON.parse(readFileSync(join(repo!.dir, 'router/package.json'), 'utf8')).scripts.start).toBe('node dist/index.js');
    start('@campus/router', ['--supergraph', supergraph]);
    await healthy('router');

    const session = await logIn(`${url('router')}/graphql`, 'student@campus.test', 'campus-demo');
    expect(session.user).toMatchObject({ email: 'student@campus.test', role: 'STUDENT' });
    expect(session.accessToken).toEqual(expect.any(String));
  });
});
