/**
 * The router's Prometheus series and access log (docs/observability.md), through real HTTP and
 * graphql-ws. Subgraphs come from the worker's shared stack; every test reads a router of its own
 * (createRouter over the stack's supergraph, as the stack does), so its counters start at zero
 * whatever other files of the worker sent, and its logger is captured line by line.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, type Env } from '@campus/kit/core';
import { connectWs, freePort, graphql, logIn, waitFor, type WsConnection } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router/server';

const [, instructor, student] = DEMO_ACCOUNTS;

const CATALOG = /* GraphQL */ `query MetricsCatalog { courses(first: 3) { edges { node { id title } } } }`;

/** `courses → instructor → coursesTaught`, `levels` times: deeper than the default limit of 12 at 5. */
function nested(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `instructor { coursesTaught(first: 1) { edges { node { id ${inner} } } } }`;
  return `query MetricsTooDeep { courses(first: 1) { edges { node { ${inner} } } } }`;
}

type Labels = Record<string, string>;

/** Every sample of `name` in Prometheus's text format whose labels include `labels`, summed (0 when none). */
function sample(text: string, name: string, labels: Labels = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[key!] = value!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

/** Whether `name` has a sample with exactly these labels (besides service). */
function hasSeries(text: string, name: string, labels: Labels): boolean {
  return text.split('\n').some((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)));
}

interface OwnRouter {
  router: Router;
  base: string;
  url: string;
  lines: Record<string, any>[];
  metrics(): Promise<string>;
}

describe('router metrics and access log', () => {
  let stack: TestStack;
  let instructorToken: string;
  let studentToken: string;
  const routers: Router[] = [];
  const sockets: WsConnection[] = [];

  async function startRouter(env: Env = {}, supergraphPath = stack.supergraphPath): Promise<OwnRouter> {
    const config = loadConfig({
      NODE_ENV: 'test',
      ROUTER_SIGNING_KEYS: stack.keys.router,
      SUPERGRAPH_PATH: supergraphPath,
      JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      ...env,
    });
    const lines: Record<string, any>[] = [];
    const router = createRouter(config, { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, any>) }) });
    routers.push(router);
    await new Promise<void>((resolve) => router.httpServer.listen(0, '127.0.0.1', resolve));
    await router.start();
    const base = `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}`;
    return {
      router,
      base,
      url: `${base}/graphql`,
      lines,
      metrics: async () => {
        const res = await fetch(`${base}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/plain');
        return res.text();
      },
    };
  }

  beforeAll(async () => {
    stack = await sharedTestStack();
    instructorToken = (await logIn(stack.routerUrl, instructor.email, DEMO_PASSWORD)).accessToken;
    studentToken = (await logIn(stack.routerUrl, student.email, DEMO_PASSWORD)).accessToken;
  });

  afterAll(async () => {
    for (const s of sockets) await s.close();
    for (const r of routers) await r.stop();
  });

  describe('on a router of its own', () => {
    let own: OwnRouter;
    beforeAll(async () => {
      own = await startRouter();
    });

    it('counts a query by name, type and outcome, its courses fetch, its latency and the plan cache', async () => {
      const before = await own.metrics();
      expect(sample(before, 'campus_router_requests_total', { operation_name: 'MetricsCatalog' })).toBe(0);

      for (let i = 0; i < 3; i++) {
        const r = await graphql(own.url, CATALOG);
        expect(r.errors).toBeUndefined();
        expect(r.data.courses.edges.length).toBeGreaterThan(0);
      }

      const text = await own.metrics();
      const ok = { transport: 'http', operation_name: 'MetricsCatalog', operation_type: 'query', outcome: 'ok' };
      expect(sample(text, 'campus_router_requests_total', ok)).toBe(3);
      expect(sample(text, 'campus_router_request_duration_seconds_count', { transport: 'http', operation_type: 'query', outcome: 'ok' })).toBe(3);
      // One courses fetch per request (the plan needs no other subgraph), none anywhere else.
      const courses = { subgraph: 'courses', outcome: 'ok' };
      expect(sample(text, 'campus_router_subgraph_fetches_total', courses) - sample(before, 'campus_router_subgraph_fetches_total', courses)).toBe(3);
      expect(sample(text, 'campus_router_subgraph_fetch_duration_seconds_count', courses) - sample(before, 'campus_router_subgraph_fetch_duration_seconds_count', courses)).toBe(3);
      expect(sample(text, 'campus_router_subgraph_fetches_total', { subgraph: 'users' })).toBe(sample(before, 'campus_router_subgraph_fetches_total', { subgraph: 'users' }));
      // Planned once, then served from the cache.
      expect(sample(text, 'campus_router_query_plan_cache_misses_total') - sample(before, 'campus_router_query_plan_cache_misses_total')).toBe(1);
      expect(sample(text, 'campus_router_query_plan_cache_hits_total') - sample(before, 'campus_router_query_plan_cache_hits_total')).toBe(2);
      // Every subgraph's breaker is there, closed, before anything failed: alert rules need the series.
      for (const subgraph of ['users', 'courses', 'payments']) expect(hasSeries(text, 'campus_router_subgraph_breaker_open', { subgraph })).toBe(true);
      expect(sample(text, 'campus_router_subgraph_breaker_open')).toBe(0);
      // Node.js's own metrics come with the registry, labelled with the service.
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="router"\} /m);
    });

    it('counts an operation refused by a limit under that limit and as a client error with its code', async () => {
      const r = await graphql(own.url, nested(5));
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('OPERATION_TOO_DEEP');

      const text = await own.metrics();
      expect(sample(text, 'campus_router_operations_refused_total', { limit: 'depth', code: 'OPERATION_TOO_DEEP' })).toBe(1);
      // Refused before it validated: its name is the client's word only and takes no label of its own.
      expect(sample(text, 'campus_router_requests_total', { outcome: 'client_error', code: 'OPERATION_TOO_DEEP', operation_name: 'unknown', operation_type: 'unknown' })).toBe(1);
      expect(sample(text, 'campus_router_requests_total', { operation_name: 'MetricsTooDeep' })).toBe(0);
      expect(sample(text, 'campus_router_request_duration_seconds_count', { outcome: 'client_error' })).toBe(1);
    });

    it('counts a body over the size limit, which no GraphQL error formatting sees', async () => {
      const res = await fetch(own.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(1024 * 1024 + 1) } }),
      });
      expect(res.status).toBe(413);
      const text = await own.metrics();
      expect(sample(text, 'campus_router_operations_refused_total', { limit: 'request_size', code: 'PAYLOAD_TOO_LARGE' })).toBe(1);
      expect(sample(text, 'campus_router_requests_total', { outcome: 'client_error', code: 'PAYLOAD_TOO_LARGE' })).toBe(1);
    });

    it('writes one access log line per request, with who, what and how it went, and nothing of the body or token', async () => {
      const requestId = `metrics-test-${process.pid}`;
      const r = await graphql(own.url, 'query MetricsMe { me { id } }', { token: studentToken, headers: { 'x-request-id': requestId } });
      expect(r.data).toEqual({ me: { id: student.id } });
      const denied = await graphql(own.url, nested(5), { headers: { 'x-request-id': `${requestId}-deep` } });
      expect(denied.status).toBe(400);

      const lineOf = (id: string) => waitFor(() => {
        const found = own.lines.filter((l) => l.msg === 'graphql request' && l.requestId === id);
        return found.length ? found : undefined;
      }, `the access log line of ${id}`);

      const [line, ...more] = await lineOf(requestId);
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        level: 30,
        requestId,
        method: 'POST',
        operationName: 'MetricsMe',
        operationType: 'query',
        status: 200,
        outcome: 'ok',
        clientAddress: '127.0.0.1',
        userId: student.id,
      });
      expect(line!.durationMs).toBeGreaterThan(0);
      expect(line).not.toHaveProperty('errorCode');
      const text = JSON.stringify(line);
      expect(text).not.toContain(studentToken);
      expect(text).not.toContain('me { id }');

      const [refused] = await lineOf(`${requestId}-deep`);
      expect(refused).toMatchObject({ status: 400, outcome: 'client_error', errorCode: 'OPERATION_TOO_DEEP', operationType: 'unknown', clientAddress: '127.0.0.1' });
      expect(refused).not.toHaveProperty('userId');
    });

    it('shows an open subscription in the connection, subscription and upstream gauges, counts its events, and drops them when closed', async () => {
      const created = await graphql(own.url, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }`, {
        token: instructorToken,
        variables: { input: { title: `Metrics ${process.pid}`, category: 'MUSIC' } },
      });
      const courseId = created.data.createCourse.course.id as string;
      const gauges = async () => {
        const text = await own.metrics();
        return [
          sample(text, 'campus_router_websocket_connections'),
          sample(text, 'campus_router_subscriptions_active'),
          sample(text, 'campus_router_subscription_upstream_sockets'),
        ];
      };
      expect(await gauges()).toEqual([0, 0, 0]);

      const socket = await connectWs(own.url, { token: instructorToken });
      sockets.push(socket);
      const updates = socket.subscribe(`subscription { courseUpdated(id: "${courseId}") { id title } }`);
      await waitFor(async () => (await gauges()).join() === '1,1,1', 'one connection, subscription and upstream socket in the gauges');
      // The upstream subscription must be live before the change, or its event is never seen.
      await waitFor(() => stack.services.courses!.server.liveSubscriptions().subscriptions > 0, 'the subscription at the courses subgraph');

      const renamed = await graphql(own.url, `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }`, {
        token: instructorToken,
        variables: { input: { courseId, title: `Metrics renamed ${process.pid}` } },
      });
      expect(renamed.errors).toBeUndefined();
      await updates.nth(0);
      expect(sample(await own.metrics(), 'campus_router_subscription_events_delivered_total')).toBe(updates.results.length);

      // Operations over the socket are requests too (transport "ws"): the subscription once admitted,
      // a query by its answer, a refused one as a client error with its code.
      const answered = await socket.execute(`query MetricsOverWs { courses(first: 1) { edges { node { id } } } }`);
      expect(answered.errors).toBeUndefined();
      // graphql-ws answers an invalid operation with an error message (its errors), which execute rejects with.
      const refused = await socket.execute(`query MetricsInvalidOverWs { nope }`).then(() => undefined, (e: unknown) => e);
      expect(JSON.stringify(refused)).toContain('GRAPHQL_VALIDATION_FAILED');
      const ws = await own.metrics();
      expect(sample(ws, 'campus_router_requests_total', { transport: 'ws', operation_type: 'subscription', outcome: 'ok' })).toBe(1);
      expect(sample(ws, 'campus_router_requests_total', { transport: 'ws', operation_name: 'MetricsOverWs', operation_type: 'query', outcome: 'ok' })).toBe(1);
      expect(sample(ws, 'campus_router_requests_total', { transport: 'ws', outcome: 'client_error', code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
      expect(sample(ws, 'campus_router_request_duration_seconds_count', { transport: 'ws' })).toBe(3);

      await socket.close();
      await waitFor(async () => (await gauges()).join() === '0,0,0', 'the gauges back at zero');
    });
  });

  it('counts fetches to a subgraph that is down, and shows its breaker open', async () => {
    // The stack's supergraph with payments moved to a port nothing listens on.
    const deadUrl = `http://127.0.0.1:${await freePort()}/graphql`;
    const path = join(mkdtempSync(join(tmpdir(), 'router-metrics-')), 'supergraph.graphql');
    writeFileSync(path, readFileSync(stack.supergraphPath, 'utf8').replaceAll(`${stack.urls.payments}/graphql`, deadUrl));
    const own = await startRouter({ SUBGRAPH_BREAKER_FAILURES: '2' }, path);
    const query = 'query MetricsPayment { payment(id: "00000000-0000-0000-0000-000000000000") { id } }';

    // The first fails to connect, is retried once (a query) and fails again: two failures open the breaker.
    const first = await graphql(own.url, query, { token: studentToken });
    expect(first.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', reason: 'CONNECTION_FAILED' });
    const second = await graphql(own.url, query, { token: studentToken });
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', reason: 'CIRCUIT_OPEN' });

    const text = await own.metrics();
    expect(sample(text, 'campus_router_subgraph_fetches_total', { subgraph: 'payments', outcome: 'connection_failed' })).toBe(1);
    expect(sample(text, 'campus_router_subgraph_fetches_total', { subgraph: 'payments', outcome: 'breaker_open' })).toBe(1);
    expect(sample(text, 'campus_router_subgraph_fetch_retries_total', { subgraph: 'payments' })).toBe(1);
    expect(sample(text, 'campus_router_subgraph_breaker_open', { subgraph: 'payments' })).toBe(1);
    expect(sample(text, 'campus_router_subgraph_breaker_opened_total', { subgraph: 'payments' })).toBe(1);
    expect(sample(text, 'campus_router_subgraph_breaker_open', { subgraph: 'courses' })).toBe(0);
    expect(sample(text, 'campus_router_requests_total', { operation_name: 'MetricsPayment', outcome: 'server_error', code: 'SUBGRAPH_UNAVAILABLE' })).toBe(2);
  });

  it('serves /metrics on ROUTER_METRICS_PORT only, when it is set', async () => {
    const port = await freePort();
    const own = await startRouter({ ROUTER_METRICS_PORT: String(port) });
    expect(own.router.metricsPort()).toBe(port);
    await graphql(own.url, CATALOG);

    const separate = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(separate.status).toBe(200);
    const text = await separate.text();
    expect(sample(text, 'campus_router_requests_total', { operation_name: 'MetricsCatalog', outcome: 'ok' })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    expect((await fetch(`${own.base}/metrics`)).status).toBe(404);

    await own.router.stop();
    routers.splice(routers.indexOf(own.router), 1);
    // Closed with the router: nothing left listening.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
