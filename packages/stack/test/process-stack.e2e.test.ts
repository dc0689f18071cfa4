/**
 * The production topology (every service its own process, PostgreSQL + Redis) answers like the
 * embedded default: the harness other whole-system tests build on.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStackAvailable, startProcessStack, type ProcessStack } from '../src/process-stack.ts';
import { graphql, logIn } from '@campus/test-kit';

describe.skipIf(!processStackAvailable())('services as separate processes', () => {
  let stack: ProcessStack;
  beforeAll(async () => {
    stack = await startProcessStack();
  });
  afterAll(() => stack?.close());

  it('signs in through the router and reads across subgraphs', async () => {
    const { accessToken } = await logIn(stack.routerUrl, DEMO_ACCOUNTS[2].email, DEMO_PASSWORD);
    const r = await graphql(stack.routerUrl, '{ me { name enrollments(first: 3) { totalCount } } courses(first: 2) { edges { node { title instructor { name } } } } }', { token: accessToken });
    expect(r.errors).toBeUndefined();
    expect(r.data.me.name).toBe(DEMO_ACCOUNTS[2].name);
    expect(r.data.courses.edges.length).toBeGreaterThan(0);
  });
});
