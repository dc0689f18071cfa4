/**
 * The router as several processes on one port (ROUTER_WORKERS, router/src/cluster/; docs/readiness.md,
 * "Workers"), through its real entry point (router/src/index.ts, from the sources as `npm run dev`
 * runs it) against the worker's shared stack: both workers serve, /metrics is the whole router, a
 * worker killed with SIGKILL is replaced while the port keeps answering, SIGTERM drains every
 * process and exits 0, and a bad ROUTER_WORKERS is a startup error naming it.
 *
 * Requests go over a new connection each (agent: false): node:cluster hands out connections, not
 * requests, so one keep-alive connection would stay on one worker. Which worker answered is read
 * from the access log, whose lines carry `worker` (docs/observability.md, "Logs").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CATALOG = 'query WorkersCatalog { courses(first: 2) { edges { node { id title } } } }';

interface RouterProcess {
  child: ChildProcess;
  port: number;
  /** Every JSON line written so far, by the primary and the workers (one stdout). */
  lines(): Record<string, any>[];
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startRouter(stack: TestStack, port: number, env: Record<string, string>): RouterProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'router/src/index.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      ROUTER_PORT: String(port),
      ROUTER_SIGNING_KEYS: stack.keys.router,
      SUPERGRAPH_PATH: stack.supergraphPath,
      JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    port,
    output: () => output,
    lines: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, any>;
          } catch {
            return {};
          }
        }),
    exit,
  };
}

/** One HTTP exchange on a connection of its own. */
function http(port: number, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    req.end(payload);
  });
}

const catalog = (port: number) => http(port, 'POST', '/graphql', { query: CATALOG, operationName: 'WorkersCatalog' });

/** Sum of the samples of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('ROUTER_WORKERS: the router on several processes', () => {
  let stack: TestStack;
  let router: RouterProcess;
  const workerPids = () => new Map(router.lines().filter((l) => l.msg === 'router worker ready').map((l) => [l.worker as number, l.pid as number]));
  const servedBy = () => new Set(router.lines().filter((l) => l.msg === 'graphql request' && l.operationName === 'WorkersCatalog').map((l) => l.worker as number));

  let bogus: RouterProcess;

  beforeAll(async () => {
    stack = await sharedTestStack();
    // Started beside the real one: most of its few seconds go to loading modules, before the config.
    bogus = startRouter(stack, await freePort(), { ROUTER_WORKERS: 'bogus' });
    router = startRouter(stack, await freePort(), { ROUTER_WORKERS: '2' });
    await Promise.race([
      waitFor(() => router.lines().some((l) => l.msg === 'router serving with 2 worker processes'), 'the router with two workers', { timeoutMs: 90_000, intervalMs: 100 }),
      router.exit.then(() => {
        throw new Error(`the router exited:\n${router.output().slice(-3000)}`);
      }),
    ]);
  });

  afterAll(async () => {
    if (router?.child.exitCode === null) {
      router.child.kill('SIGKILL');
      await router.exit;
    }
  });

  it('refuses to start with a bad ROUTER_WORKERS, naming it', async () => {
    const { code } = await bogus.exit;
    expect(code).toBe(1);
    const fatal = bogus.lines().find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/^router failed to start: Invalid configuration:\s+- ROUTER_WORKERS: must be a number of worker processes/);
  });

  it('serves from both workers, each warmed and logging its worker number', async () => {
    expect([...workerPids().keys()].sort()).toEqual([1, 2]);
    // Each worker planned the manifest's operations before it was ready (router/src/planning/warm-plans.ts).
    const warmed = router.lines().filter((l) => l.msg === 'query plans warmed from the persisted-query manifest');
    expect(new Set(warmed.map((l) => l.worker))).toEqual(new Set([1, 2]));
    expect(warmed.every((l) => l.planned > 0 && l.failed === 0)).toBe(true);

    const answers = await Promise.all(Array.from({ length: 20 }, () => catalog(router.port)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    await waitFor(() => servedBy().size === 2, 'access log lines of both workers', 5_000);
    expect(router.lines().find((l) => l.msg === 'router serving with 2 worker processes')?.worker).toBe('primary');
  });

  it('answers /metrics for the whole router, whichever worker takes the scrape', async () => {
    const before = await http(router.port, 'GET', '/metrics');
    const sent = 10;
    for (let i = 0; i < sent; i++) expect((await catalog(router.port)).status).toBe(200);
    const requests = { operation_name: 'WorkersCatalog', outcome: 'ok' };
    // Several scrapes, landing on either worker: each is the sum of both.
    for (let i = 0; i < 4; i++) {
      const { status, text } = await http(router.port, 'GET', '/metrics');
      expect(status).toBe(200);
      expect(sample(text, 'campus_router_requests_total', requests) - sample(before.text, 'campus_router_requests_total', requests)).toBe(sent);
      // Node.js's own series stay per process, labelled.
      for (const worker of ['1', '2', 'primary']) expect(sample(text, 'nodejs_heap_size_used_bytes', { worker })).toBeGreaterThan(0);
      expect(sample(text, 'campus_router_workers_ready')).toBe(2);
      // The series of one process are not labelled by worker.
      expect(text).not.toMatch(/campus_router_requests_total\{[^}]*worker=/);
    }
  });

  it('replaces a worker killed with SIGKILL while the port keeps answering', async () => {
    const pids = workerPids();
    const victim = pids.get(1)!;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => router.lines().some((l) => l.msg === 'router worker died; starting a replacement' && l.workerPid === victim), 'the primary to see the death', 5_000);
    const died = router.lines().find((l) => l.msg === 'router worker died; starting a replacement')!;
    expect(died).toMatchObject({ level: 50, workerId: 1, exit: 'signal SIGKILL' });
    // The other worker answers while the replacement starts.
    for (let i = 0; i < 5; i++) expect((await catalog(router.port)).status).toBe(200);
    await waitFor(() => workerPids().get(1) !== victim, 'a replacement worker 1', { timeoutMs: 45_000, intervalMs: 100 });
    expect(workerPids().get(1)).not.toBe(victim);
    const metrics = await http(router.port, 'GET', '/metrics');
    expect(sample(metrics.text, 'campus_router_worker_restarts_total')).toBe(1);
    expect(sample(metrics.text, 'campus_router_workers_ready')).toBe(2);
    const answers = await Promise.all(Array.from({ length: 20 }, () => catalog(router.port)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    router.child.kill('SIGTERM');
    const { code } = await router.exit;
    expect(code).toBe(0);
    const draining = router.lines().filter((l) => l.msg === 'draining');
    expect(new Set(draining.map((l) => l.worker))).toEqual(new Set(['primary', 1, 2]));
  });
});
