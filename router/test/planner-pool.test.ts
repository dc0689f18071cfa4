/**
 * The planner pool (router/src/planning/planner-pool.ts) on a real planner thread and the
 * repository's own supergraph: a burst of requests for an operation it has not planned yet makes
 * one plan, not one per request. Each plan a thread makes arrives as its own deserialized object,
 * so every caller holding the very same object shows that one job served them all.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '@campus/kit/core';
import { waitFor } from '@campus/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { PlannerPool } from '../src/planning/planner-pool.ts';

const sdl = readFileSync(new URL('../supergraph.graphql', import.meta.url), 'utf8');

describe('planner pool', () => {
  const pool = new PlannerPool({ timeoutMs: 30_000, workers: 1, cacheSize: 100, logger: createLogger('router', 'silent') });
  pool.setSupergraph(1, sdl);
  afterAll(() => pool.close());

  it('plans an operation once for a burst of requests that all miss the cache', async () => {
    await pool.ready;
    const query = '{ courses(first: 5) { edges { node { title instructor { name } } } } }';
    const plans = await Promise.all(Array.from({ length: 20 }, () => pool.plan(1, query, undefined, query)));
    expect(new Set(plans).size).toBe(1);
    expect(pool.cacheStats()).toMatchObject({ misses: 20, entries: 1 });
    // Planned: a later request is a hit on the same plan.
    expect(await pool.plan(1, query, undefined, query)).toBe(plans[0]);
    expect(pool.cacheStats().hits).toBe(1);
  });

  it('plans different operations apart', async () => {
    const a = '{ courses(first: 1) { totalCount } }';
    const b = '{ courses(first: 2) { totalCount } }';
    const [planA, planB] = await Promise.all([pool.plan(1, a, undefined, a), pool.plan(1, b, undefined, b)]);
    expect(planA).not.toBe(planB);
    expect(pool.cacheStats().entries).toBe(3);
  });
});

describe('planner pool, threads ending idle', () => {
  const pool = new PlannerPool({ timeoutMs: 300, idleExitMs: 200, workers: 1, cacheSize: 100, logger: createLogger('router', 'silent') });
  pool.setSupergraph(1, sdl);
  afterAll(() => pool.close());

  it('ends the thread when it has nothing to plan, and plans a new operation on a new one within the budget', async () => {
    await pool.ready;
    const first = '{ courses(first: 3) { totalCount } }';
    await pool.plan(1, first, undefined, first);
    await waitFor(() => pool.threadCount() === 0, 'the idle planner thread to end', 5_000);
    // Cached plans need no thread.
    await pool.plan(1, first, undefined, first);
    expect(pool.threadCount()).toBe(0);
    // A new operation starts a thread; its 300 ms budget counts from when that thread can plan
    // (a cold thread takes longer than that to load the planner), so it is planned, not timed out.
    const next = '{ courses(first: 4) { totalCount edges { node { title } } } }';
    const plan = await pool.plan(1, next, undefined, next);
    expect(plan.kind).toBe('QueryPlan');
    expect(pool.threadCount()).toBe(1);
  });
});
