/**
 * The readiness mechanism on its own (packages/kit/src/core/readiness.ts, docs/readiness.md): what
 * it answers, that a hung check is cut at its timeout, that concurrent probes share one
 * evaluation, that a cached check is not re-run, and that draining wins. The checks here are plain
 * functions; the real ones (database, Redis, subgraphs) are exercised against real dependencies in
 * packages/stack/test/readiness*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CheckFailed, createReadiness, errorReason, type ReadinessCheck } from '../src/core/index.ts';

const up = (name: string): ReadinessCheck => ({ name, run: async () => {} });

describe('readiness', () => {
  it('is ready when every check is up, with each check and its latency', async () => {
    const report = await createReadiness('users', [up('database'), up('redis')]).evaluate();
    expect(report).toMatchObject({ status: 'ready', service: 'users', checks: { database: { status: 'up' }, redis: { status: 'up' } } });
    expect(report.checks.database!.latencyMs).toBeTypeOf('number');
    expect(report.reason).toBeUndefined();
  });

  it('is unready naming what is down and why', async () => {
    const readiness = createReadiness('users', [
      up('database'),
      { name: 'redis', run: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6390')) },
    ]);
    expect(await readiness.evaluate()).toMatchObject({
      status: 'unready',
      reason: 'down: redis',
      checks: { database: { status: 'up' }, redis: { status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:6390' } },
    });
  });

  it('shows the details a failed check gives', async () => {
    const readiness = createReadiness('router', [
      { name: 'subgraphs', run: async () => Promise.reject(new CheckFailed('courses: HTTP 500', { subgraphs: { courses: { status: 'down' } } })) },
    ]);
    expect((await readiness.evaluate()).checks.subgraphs).toMatchObject({ status: 'down', error: 'courses: HTTP 500', subgraphs: { courses: { status: 'down' } } });
  });

  it('cuts a hung check at its timeout, and aborts its signal', async () => {
    let aborted = false;
    const readiness = createReadiness('users', [
      up('redis'),
      {
        name: 'database',
        timeoutMs: 50,
        run: (signal) =>
          new Promise(() => {
            signal.addEventListener('abort', () => (aborted = true));
          }),
      },
    ]);
    const started = performance.now();
    const report = await readiness.evaluate();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report.checks.database).toMatchObject({ status: 'down', error: 'no answer within 50 ms' });
    expect(report.checks.redis).toMatchObject({ status: 'up' });
    expect(aborted).toBe(true);
  });

  it('shares one evaluation between concurrent callers', async () => {
    let runs = 0;
    const readiness = createReadiness('users', [
      { name: 'database', run: async () => void (runs++, await new Promise((r) => setTimeout(r, 20))) },
    ], { reuseMs: 0 });
    const reports = await Promise.all(Array.from({ length: 50 }, () => readiness.evaluate()));
    expect(runs).toBe(1);
    expect(new Set(reports).size).toBe(1);
    // Once it has finished, a later probe evaluates again.
    await readiness.evaluate();
    expect(runs).toBe(2);
  });

  it('answers probes that follow a finished evaluation closely with it, then evaluates again', async () => {
    let runs = 0;
    const readiness = createReadiness('users', [{ name: 'database', run: async () => void runs++ }], { reuseMs: 100 });
    for (let i = 0; i < 20; i++) await readiness.evaluate();
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 120));
    await readiness.evaluate();
    expect(runs).toBe(2);
  });

  it("asks a check of the process's own state on every probe, so a change shows at once, while a dependency's result is reused", async () => {
    let databaseRuns = 0;
    let supergraphLoaded = false;
    const readiness = createReadiness('router', [
      { name: 'database', run: async () => void databaseRuns++ },
      {
        name: 'supergraph',
        local: true,
        run: async () => {
          if (!supergraphLoaded) throw new Error('waiting for a supergraph');
        },
      },
    ], { reuseMs: 60_000 });
    expect(await readiness.evaluate()).toMatchObject({ status: 'unready', reason: 'down: supergraph' });
    supergraphLoaded = true;
    expect(await readiness.evaluate()).toMatchObject({ status: 'ready', checks: { database: { status: 'up' }, supergraph: { status: 'up' } } });
    expect(databaseRuns).toBe(1);
  });

  it('reuses the result of a check that asks to be cached, while its cache key stays the same', async () => {
    let runs = 0;
    let version = 1;
    const readiness = createReadiness('router', [{ name: 'subgraphs', cacheMs: 60_000, cacheKey: () => version, run: async () => void runs++ }], { reuseMs: 0 });
    await readiness.evaluate();
    await readiness.evaluate();
    expect(runs).toBe(1);
    version = 2;
    await readiness.evaluate();
    expect(runs).toBe(2);
  });

  it('answers draining without asking any dependency once the process drains', async () => {
    let runs = 0;
    const readiness = createReadiness('users', [{ name: 'database', run: async () => void runs++ }]);
    readiness.drain();
    expect(await readiness.evaluate()).toEqual({ status: 'unready', service: 'users', reason: 'draining', checks: {} });
    expect(runs).toBe(0);
    expect(readiness.draining).toBe(true);
  });

  it('lets a drain that begins during an evaluation win', async () => {
    const readiness = createReadiness('users', [{ name: 'database', run: () => new Promise((r) => setTimeout(r, 20)) }]);
    const pending = readiness.evaluate();
    readiness.drain();
    expect(await pending).toMatchObject({ status: 'unready', reason: 'draining' });
  });
});

describe('errorReason', () => {
  it('keeps the reason fetch hides in its cause', () => {
    const err = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:4002') });
    expect(errorReason(err)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:4002');
  });

  it('says why an AggregateError (every address of a name refused) failed', () => {
    const err = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')]);
    expect(errorReason(err)).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });
});
