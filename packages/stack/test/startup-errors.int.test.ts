/**
 * A service whose dependencies refuse it at start ends with one clear line (docs/readiness.md,
 * docs/service-shape.md): each subgraph's real entry point, spawned as its own process is in
 * production (packages/stack/src/process-stack.ts), with a DATABASE_URL on a port nothing listens
 * on, or a REDIS_URL on one. It must exit non-zero within seconds, print exactly one fatal line
 * naming where it tried (host:port/dbname, never the password) and why, and no stack trace.
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '@campus/stack/stack';
import { freePort } from '@campus/test-kit';
import { describe, expect, it } from 'vitest';

const PASSWORD = 'not-to-be-logged';

async function runEntry(service: string, env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = performance.now();
  // Only what a process needs to run: none of the test's database or Redis variables leak in.
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `subgraphs/${service}/src/index.ts`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'development', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output, ms: performance.now() - started };
}

function fatalLine(output: string): { msg: string; line: string } {
  const lines = output.split('\n').filter((l) => l.trim());
  const fatal = lines.filter((l) => l.includes('"level":60'));
  expect(fatal, output).toHaveLength(1);
  return { msg: JSON.parse(fatal[0]!).msg as string, line: fatal[0]! };
}

function expectNoStackTrace(output: string) {
  expect(output).not.toMatch(/\n\s+at |\\n\s+at /);
  expect(output).not.toContain('Unhandled');
  expect(output).not.toContain('"stack"');
}

describe('a service whose dependencies refuse it at start', () => {
  it.each(['users', 'courses', 'payments'])('%s exits with one fatal line naming its database when PostgreSQL refuses', async (service) => {
    const port = await freePort();
    const { code, output, ms } = await runEntry(service, {
      [`${service.toUpperCase()}_DATABASE_URL`]: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/campus`,
      // Without Redis, payments refuses to relay its outbox into a bus nobody hears: not this test's point.
      ...(service === 'payments' ? { PAYMENTS_OUTBOX_RELAY: 'false' } : {}),
    });
    expect(code, output).toBe(1);
    expect(ms).toBeLessThan(30_000);
    const { msg } = fatalLine(output);
    expect(msg).toBe(`${service} failed to start: database 127.0.0.1:${port}/campus is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(output).not.toContain(PASSWORD);
    expectNoStackTrace(output);
  });

  it('courses exits with one fatal line naming Redis when REDIS_URL refuses, instead of hanging', async () => {
    const port = await freePort();
    // Its database is the embedded PGlite (no DATABASE_URL): only Redis is missing.
    const { code, output, ms } = await runEntry('courses', { REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}` });
    expect(code, output).toBe(1);
    expect(ms).toBeLessThan(30_000);
    const { msg } = fatalLine(output);
    expect(msg).toBe(`courses failed to start: Redis at 127.0.0.1:${port} did not answer within 10 s: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(output).not.toContain(PASSWORD);
    expectNoStackTrace(output);
  });
});
