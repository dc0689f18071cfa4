/**
 * Traces and log lines across the stack (docs/observability.md): requests through the real
 * router to the real subgraphs over HTTP and their real databases, recorded by an in-memory span
 * exporter (installTestTracing) and a capture of every service's log lines (captureLogLines).
 * Its own stack: tracing and the capture are on from its start; the last test turns tracing off
 * again, as every later file of the worker expects it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  activeTracer,
  captureLogLines,
  createLogger,
  Headers,
  installTestTracing,
  type CapturedLogs,
  type FinishedSpan,
  type TestTracing,
} from '@campus/kit/core';
import { consumeEvents, type DomainEvent } from '@campus/kit/events';
import { graphql, postRaw, waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoursesService } from '@campus/courses/service';
import { startTestStack, type TestStack } from '../../src/testing.ts';
import { CHECKOUT, createCourse, logInAs, newStudent, type Account } from '../payments-helpers.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const traceparentOf = (traceId: string, spanId = hex(8)) => `00-${traceId}-${spanId}-01`;

// SpanKind, without importing the API here: what the exporter records.
const SERVER = 1;
const CLIENT = 2;
const CONSUMER = 4;

const CATALOG = /* GraphQL */ `
  query TracedCatalog { courses(first: 3) { edges { node { id title instructor { id name } } } } }
`;
/** Refused by users and payments (no token): client errors that every service touched logs. */
const REFUSED = /* GraphQL */ `
  query TracedRefusals($id: ID!) { user(id: $id) { id name } payment(id: $id) { id } }
`;
const UPDATE_COURSE = /* GraphQL */ `
  mutation TracedCourseUpdate($input: UpdateCourseInput!) { updateCourse(input: $input) { course { id title } } }
`;

describe('tracing and request-scoped logs', () => {
  let stack: TestStack;
  let tracing: TestTracing;
  let logs: CapturedLogs;
  let instructor: Account;

  beforeAll(async () => {
    logs = captureLogLines('info');
    tracing = await installTestTracing();
    stack = await startTestStack();
    instructor = await logInAs(stack.routerUrl, 'INSTRUCTOR');
  });

  afterAll(async () => {
    logs?.stop();
    await tracing?.shutdown();
    await stack?.close();
  });

  const inTrace = (traceId: string) => tracing.spans().filter((s) => s.spanContext().traceId === traceId);
  const parentId = (s: FinishedSpan) => s.parentSpanContext?.spanId;
  const service = (s: FinishedSpan) => s.attributes['campus.service'];
  /** The router's server span of a trace, once it has ended (after the response is written). */
  const routerSpan = (traceId: string) =>
    waitFor(() => inTrace(traceId).find((s) => s.kind === SERVER && service(s) === 'router'), `the router's span of ${traceId}`);

  it('records one trace per request: router, subgraph fetches, subgraph servers and their SQL, continuing the caller', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const r = await graphql(stack.routerUrl, CATALOG, { headers: { traceparent: traceparentOf(traceId, callerSpanId) } });
    expect(r.errors).toBeUndefined();

    const root = await routerSpan(traceId);
    // Continued: the caller's span is the parent of the router's.
    expect(parentId(root)).toBe(callerSpanId);
    expect(root.name).toBe('query TracedCatalog');
    expect(root.attributes).toMatchObject({ 'graphql.operation.name': 'TracedCatalog', 'graphql.operation.type': 'query', 'graphql.outcome': 'ok', 'http.response.status_code': 200 });

    // Both subgraphs were asked (courses for the catalog, users for the instructors' names).
    const servers = await waitFor(() => {
      const found = inTrace(traceId).filter((s) => s.kind === SERVER && service(s) !== 'router');
      return found.length >= 2 ? found : undefined;
    }, 'the subgraphs’ server spans');
    const spans = inTrace(traceId);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    for (const server of servers) {
      // Each subgraph's span hangs from the router's fetch of that subgraph.
      const fetch = byId.get(parentId(server)!);
      expect(fetch?.kind).toBe(CLIENT);
      expect(fetch?.name).toBe(`subgraph ${service(server)}`);
      expect(fetch?.attributes).toMatchObject({ 'subgraph.name': service(server), 'http.response.status_code': 200 });
      expect(server.attributes['graphql.operation.type']).toBe('query');
      expect(server.attributes['graphql.operation.name']).toMatch(/^TracedCatalog__/);
    }
    expect(servers.map(service).sort()).toEqual(['courses', 'users']);

    // Prisma's spans below the subgraphs', with the SQL they sent.
    const queries = spans.filter((s) => s.name === 'prisma:client:db_query');
    expect(new Set(queries.map(service))).toEqual(new Set(['courses', 'users']));
    expect(queries.some((q) => /FROM "Course"/.test(String(q.attributes['db.query.text'])))).toBe(true);

    // One tree: every span of the trace leads up to the router's.
    const rootId = root.spanContext().spanId;
    for (const span of spans) {
      let at: FinishedSpan | undefined = span;
      for (let hops = 0; at && at.spanContext().spanId !== rootId && hops < 50; hops++) at = byId.get(parentId(at)!);
      expect(at?.spanContext().spanId, `${span.name} reaches the router's span`).toBe(rootId);
    }
  });

  it('continues the trace through service-to-service calls: payments asking courses and users at checkout', async () => {
    const course = await createCourse(stack.routerUrl, instructor, { price: { amount: 1900, currency: 'EUR' } });
    const buyer = await newStudent(stack.routerUrl);
    const traceId = hex(16);
    const r = await graphql(stack.routerUrl, CHECKOUT, {
      token: buyer.token,
      headers: { traceparent: traceparentOf(traceId) },
      variables: { input: { courseId: course.id, paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID() } },
    });
    expect(r.errors).toBeUndefined();

    // payments' server span, its signed calls to courses and users (client spans), and their server spans below them.
    const calls = await waitFor(() => {
      const found = inTrace(traceId).filter((s) => s.kind === CLIENT && service(s) === 'payments' && s.name.startsWith('subgraph '));
      return found.length >= 2 ? found : undefined;
    }, 'payments’ calls to courses and users');
    expect(calls.map((c) => c.name).sort()).toEqual(['subgraph courses', 'subgraph users']);
    const answered = await waitFor(() => {
      const found = inTrace(traceId).filter((s) => s.kind === SERVER && calls.some((c) => c.spanContext().spanId === parentId(s)));
      return found.length >= 2 ? found : undefined;
    }, 'the called services’ server spans');
    expect(answered.map(service).sort()).toEqual(['courses', 'users']);
  });

  it('starts a trace when the client sends none, and records error codes where they arose', async () => {
    const r = await graphql(stack.routerUrl, REFUSED, { variables: { id: randomUUID() } });
    const codes = [...new Set(r.errors?.map((e) => e.extensions?.code))];
    expect(codes.length).toBeGreaterThan(0);

    const root = await waitFor(
      () => tracing.spans().find((s) => s.kind === SERVER && service(s) === 'router' && s.attributes['graphql.operation.name'] === 'TracedRefusals'),
      'the router span of TracedRefusals',
    );
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes['graphql.outcome']).toMatch(/^(error|partial)$/);
    expect(new Set(root.attributes['graphql.error.codes'] as string[])).toEqual(new Set(codes));
    const traceId = root.spanContext().traceId;
    const fetches = await waitFor(() => {
      const found = inTrace(traceId).filter((s) => s.kind === CLIENT && s.name.startsWith('subgraph '));
      return found.length >= 2 ? found : undefined;
    }, 'the fetches of TracedRefusals');
    for (const fetch of fetches) expect(fetch.attributes['graphql.error.codes'], fetch.name).toBeDefined();
  });

  it('writes the request id and the trace id on the log lines of every service the request touched', async () => {
    const requestId = `trace-test-${randomUUID()}`;
    const traceId = hex(16);
    await graphql(stack.routerUrl, REFUSED, { variables: { id: randomUUID() }, headers: { [Headers.requestId]: requestId, traceparent: traceparentOf(traceId) } });
    await routerSpan(traceId);
    const touched = await waitFor(() => {
      const services = new Set(inTrace(traceId).filter((s) => s.kind === SERVER).map(service));
      return services.size >= 3 ? services : undefined;
    }, 'server spans of router, users and payments');
    expect([...touched].sort()).toEqual(['payments', 'router', 'users']);

    const lines = logs.lines().filter((l) => l.requestId === requestId);
    expect(new Set(lines.map((l) => l.service))).toEqual(touched);
    for (const line of lines) {
      expect(line.traceId, JSON.stringify(line)).toBe(traceId);
      expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
    // Never the key twice, though the subgraphs' per-request loggers bind the id themselves.
    const written = logs.text().filter((l) => l.includes(requestId));
    expect(written.length).toBe(lines.length);
    for (const line of written) expect(line.split('"requestId":').length, line).toBe(2);
  });

  it('hands the trace of the writing request to the consumer of its event, as a link', async () => {
    const course = await createCourse(stack.routerUrl, instructor, { lessons: 0, publish: false });
    const group = `trace-test-${randomUUID().slice(0, 8)}`;
    const received: DomainEvent[] = [];
    const stop = await consumeEvents(stack.shared.bus, group, { CourseUpdated: async (e) => void (e.payload.courseId === course.id && received.push(e)) }, createLogger(group, 'silent'));
    try {
      const traceId = hex(16);
      const r = await graphql(stack.routerUrl, UPDATE_COURSE, {
        token: instructor.token,
        variables: { input: { courseId: course.id, title: `Traced ${randomUUID().slice(0, 8)}` } },
        headers: { traceparent: traceparentOf(traceId) },
      });
      expect(r.errors).toBeUndefined();
      const event = await waitFor(() => received.find((e) => e.traceContext?.traceparent?.includes(traceId)), 'the CourseUpdated of the traced update');

      const consumer = await waitFor(
        () => tracing.spans().find((s) => s.name === 'process CourseUpdated' && s.attributes['messaging.message.id'] === event.id && service(s) === group),
        'the span that handled the event',
      );
      expect(consumer.kind).toBe(CONSUMER);
      expect(consumer.attributes).toMatchObject({ 'messaging.destination.name': 'CourseUpdated', 'messaging.consumer.group.name': group });
      // A trace of its own, linked to (not a child of) the producer's span, which lies in the request's trace.
      expect(consumer.parentSpanContext).toBeUndefined();
      expect(consumer.spanContext().traceId).not.toBe(traceId);
      expect(consumer.links.map((l) => l.context.traceId)).toEqual([traceId]);
      const producer = inTrace(traceId).find((s) => s.spanContext().spanId === consumer.links[0]!.context.spanId);
      expect(producer && service(producer)).toBe('courses');
    } finally {
      await stop();
    }
  });

  it('refuses a subgraph request whose traceparent differs from the one the router signed', async () => {
    const url = `${stack.urls.courses}/graphql`;
    const body = JSON.stringify({ query: '{ __typename }' });
    const send = (signed: string | undefined, sent: string | undefined) => {
      const signature = stack.signers.router.sign('courses', { method: 'POST', path: '/graphql', body, traceparent: signed });
      return postRaw(url, {
        body,
        headers: { 'content-type': 'application/json', [Headers.serviceSignature]: signature, ...(sent ? { [Headers.traceparent]: sent } : {}) },
      });
    };
    const signed = traceparentOf(hex(16));
    const other = traceparentOf(hex(16));

    for (const [what, response] of [
      ['changed after signing', await send(signed, other)],
      ['removed after signing', await send(signed, undefined)],
      ['added after signing', await send(undefined, other)],
    ] as const) {
      expect(response.status, what).toBe(403);
      expect(response.errors?.[0]?.message, what).toContain('request signature does not match the request');
    }
    expect((await send(signed, signed)).data).toEqual({ __typename: 'Query' });
    // Neither signed nor sent: a caller that does not trace, or signed before the claim existed.
    expect((await send(undefined, undefined)).data).toEqual({ __typename: 'Query' });
  });

  it('with tracing off, records nothing, stores no trace context, logs no trace ids, and works', async () => {
    await tracing.shutdown();
    expect(activeTracer()).toBeUndefined();
    expect((globalThis as Record<string, unknown>).PRISMA_INSTRUMENTATION).toBeUndefined();

    const requestId = `trace-test-${randomUUID()}`;
    const r = await graphql(stack.routerUrl, CATALOG, { headers: { [Headers.requestId]: requestId, traceparent: traceparentOf(hex(16)) } });
    expect(r.errors).toBeUndefined();
    expect(tracing.spans()).toEqual([]);

    // The event still flows, without a trace context to link to.
    const course = await createCourse(stack.routerUrl, instructor, { lessons: 0, publish: false });
    const courses = stack.services.courses as unknown as CoursesService;
    const row = await waitFor(
      async () => (await courses.prisma.outboxEvent.findMany({ where: { type: 'CourseUpdated' }, orderBy: { seq: 'desc' }, take: 20 })).find((e) => (e.payload as { courseId?: string }).courseId === course.id),
      'the outbox row of the new course',
    );
    expect(row.traceContext).toBeNull();

    const refused = `trace-test-${randomUUID()}`;
    await graphql(stack.routerUrl, REFUSED, { variables: { id: randomUUID() }, headers: { [Headers.requestId]: refused } });
    const lines = await waitFor(() => {
      const found = logs.lines().filter((l) => l.requestId === refused);
      return found.length > 0 ? found : undefined;
    }, 'log lines of the refused request');
    for (const line of lines) expect(line.traceId).toBeUndefined();
  });
});
