/**
 * Merging of identical subgraph fetches in flight (router/src/subgraph-dedup.ts) and the waiter's
 * own deadline (follow in router/src/subgraph-resilience.ts), without a network. Through the real
 * router and subgraphs: packages/stack/test/router/subgraph-dedup.e2e.test.ts.
 */
import { createLogger } from '@campus/kit/core';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSubgraphDedup, type FetchIdentity } from '../src/subgraph-dedup.ts';
import { createSubgraphResilience } from '../src/subgraph-resilience.ts';

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const fetch = (overrides: Partial<FetchIdentity> = {}): FetchIdentity => ({
  subgraph: 'users',
  url: 'http://users/graphql',
  authorization: undefined,
  headers: undefined,
  body: '{"query":"{ a }"}',
  ...overrides,
});

describe('createSubgraphDedup', () => {
  it('sends once while in flight, counts the fetches saved, and forgets the fetch when it settles', async () => {
    const saved: string[] = [];
    const dedup = createSubgraphDedup<string>({ deduplicated: (subgraph) => saved.push(subgraph) });
    let sent = 0;
    const answer = deferred<string>();
    const send = () => {
      sent++;
      return answer.promise;
    };
    const first = dedup.join(fetch(), send);
    const second = dedup.join(fetch(), send);
    // Another body of the same length: its own fetch.
    const other = dedup.join(fetch({ body: '{"query":"{ b }"}' }), () => Promise.resolve('other'));
    expect([first.joined, second.joined, other.joined]).toEqual([false, true, false]);
    expect(sent).toBe(1);
    expect(saved).toEqual(['users']);
    answer.resolve('answer');
    expect(await Promise.all([first.answer, second.answer, other.answer])).toEqual(['answer', 'answer', 'other']);
    // Settled: no cache, the next one is sent.
    const next = dedup.join(fetch(), () => Promise.resolve('fresh'));
    expect(next.joined).toBe(false);
    expect(await next.answer).toBe('fresh');
  });

  it('fails every waiter with the same error, and sends anew afterwards', async () => {
    const dedup = createSubgraphDedup<string>();
    const answer = deferred<string>();
    const first = dedup.join(fetch(), () => answer.promise);
    const second = dedup.join(fetch(), () => Promise.resolve('never sent'));
    const error = new GraphQLError('down', { extensions: { code: 'SUBGRAPH_UNAVAILABLE' } });
    answer.reject(error);
    const outcomes = await Promise.allSettled([first.answer, second.answer]);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([error, error]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(error);
    const next = dedup.join(fetch(), () => Promise.resolve('fresh'));
    expect(next.joined).toBe(false);
    expect(await next.answer).toBe('fresh');
  });

  /** Whether `b` joins `a` while `a` is in flight. */
  const merges = (a: FetchIdentity, b: FetchIdentity) => {
    const dedup = createSubgraphDedup<string>();
    dedup.join(a, () => new Promise<string>(() => {}));
    return dedup.join(b, () => Promise.resolve('')).joined;
  };

  it('tells viewers apart and keeps anonymous callers together', () => {
    expect(merges(fetch({ authorization: 'Bearer a' }), fetch({ authorization: 'Bearer a' }))).toBe(true);
    expect(merges(fetch({ authorization: 'Bearer a' }), fetch({ authorization: 'Bearer b' }))).toBe(false);
    expect(merges(fetch({ authorization: 'Bearer a' }), fetch())).toBe(false);
    expect(merges(fetch({ authorization: '' }), fetch())).toBe(true);
    // No header value can pass for the anonymous caller.
    expect(merges(fetch(), fetch({ authorization: 'no authorization' }))).toBe(false);
  });

  it('tells subgraphs, URLs, bodies and the gateway’s own headers apart', () => {
    expect(merges(fetch(), fetch({ subgraph: 'courses' }))).toBe(false);
    expect(merges(fetch(), fetch({ url: 'http://users-2/graphql' }))).toBe(false);
    expect(merges(fetch(), fetch({ body: '{"query":"{ a }","variables":{"x":1}}' }))).toBe(false);
    expect(merges(fetch(), fetch({ headers: [['apollo-federation-include-trace', 'ftv1']] }))).toBe(false);
    expect(merges(fetch({ headers: [['Apollo-Federation-Include-Trace', 'ftv1']] }), fetch({ headers: [['apollo-federation-include-trace', 'ftv1']] }))).toBe(true);
  });
});

describe('a waiter’s deadline', () => {
  const config = { timeoutMs: 10_000, timeoutsByName: {}, breakerFailures: 5, breakerHalfOpenMs: 10_000, requestDeadlineMs: 50, dedup: true };

  it('ends the wait at the waiter’s own deadline with GATEWAY_TIMEOUT, counting no fetch', async () => {
    const fetched: string[] = [];
    const guard = createSubgraphResilience(config, createLogger('test', 'silent'), {
      fetched: (_subgraph, outcome) => fetched.push(outcome),
      retried: () => {},
      breakerChanged: () => {},
    }).forSubgraph('users', 'http://users/graphql');
    const never = new Promise<string>(() => {});
    const started = performance.now();
    const outcome = await guard.follow({ retryable: true, execution: {} }, never).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(outcome).toBeInstanceOf(GraphQLError);
    expect((outcome as GraphQLError).extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT', serviceName: 'users', deadlineMs: 50 });
    expect(fetched).toEqual([]);
  });

  it('passes the sender’s answer or error through unchanged', async () => {
    const guard = createSubgraphResilience(config, createLogger('test', 'silent')).forSubgraph('users', undefined);
    expect(await guard.follow({ retryable: true, execution: {} }, Promise.resolve('answer'))).toBe('answer');
    const error = new Error('the sender’s');
    await expect(guard.follow({ retryable: true, execution: {} }, Promise.reject(error))).rejects.toBe(error);
    // Without an execution (the gateway's own fetches) there is no deadline to keep.
    expect(await guard.follow({ retryable: true }, Promise.resolve('answer'))).toBe('answer');
  });
});
