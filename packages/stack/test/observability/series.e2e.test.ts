/**
 * Every metric the dashboard and the alert rules in deploy/observability/ query is a series the
 * router or a subgraph actually registers: scraped from the /metrics of each service of the
 * worker's shared stack after a few requests through the router. A renamed series fails here
 * instead of leaving an empty panel or an alert that can never fire.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { graphql, logIn } from '@campus/test-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedTestStack, type TestStack } from '../../src/testing.ts';
import { declaredSeries, expressions, metricNames } from './assets.ts';

const SERVICES = ['router', 'users', 'courses', 'payments'] as const;

describe('series behind the dashboard and the alerts', () => {
  let stack: TestStack;
  const scraped = new Map<string, Set<string>>();

  beforeAll(async () => {
    stack = await sharedTestStack();
    // Some series are registered on first use (a loader's first batch): a read across subgraphs,
    // a mutation and a refused operation touch the router's and every subgraph's paths first.
    const { accessToken } = await logIn(stack.routerUrl, DEMO_ACCOUNTS[2].email, DEMO_PASSWORD);
    await graphql(stack.routerUrl, '{ me { name enrollments(first: 3) { totalCount } } courses(first: 3) { edges { node { title instructor { name } } } } }', { token: accessToken });
    await graphql(stack.routerUrl, '{ nope }');
    for (const service of SERVICES) {
      const res = await fetch(new URL('/metrics', stack.urls[service]));
      expect(res.status, `${service} /metrics`).toBe(200);
      scraped.set(service, declaredSeries(await res.text()));
    }
  });

  it('serves /metrics on every service, each with the Node.js process series', () => {
    for (const service of SERVICES) {
      expect(scraped.get(service), service).toContain('nodejs_eventloop_lag_p99_seconds');
      expect(scraped.get(service), service).toContain('nodejs_heap_size_used_bytes');
    }
    expect(scraped.get('router')).toContain('campus_router_requests_total');
    for (const subgraph of ['users', 'courses', 'payments']) expect(scraped.get(subgraph), subgraph).toContain('campus_db_queries_total');
  });

  it('finds every metric name of every panel and alert among the series registered', () => {
    const all = new Set([...scraped.values()].flatMap((names) => [...names]));
    const missing = expressions().flatMap(({ where, expr }) => metricNames(expr).filter((n) => !all.has(n)).map((n) => `${where}: ${n}`));
    expect(missing).toEqual([]);
  });
});
