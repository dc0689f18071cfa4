/**
 * Tracing on by configuration (src/core/tracing.ts): with OTEL_EXPORTER_OTLP_ENDPOINT set, spans
 * reach an OTLP/HTTP collector (here a local HTTP server standing in for one) under the process's
 * service.name, with Prisma's instrumentation registered; the first setup of a process wins.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { activeTracer, flushTracing, setupTracing, shutdownTracing, startServerSpan } from '../src/core/tracing.ts';

const received: { path: string; body: Buffer }[] = [];
const collector = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

beforeAll(() => new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r())));
afterAll(async () => {
  await shutdownTracing();
  await new Promise<void>((r) => collector.close(() => r()));
});

it('exports spans over OTLP/HTTP as the first service set up, with Prisma instrumented', async () => {
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  // Files of a worker share this module (isolate: false, docs/testing.md): one that started a
  // service before this one already made the process's one decision (tracing off). Start afresh.
  await shutdownTracing();
  await setupTracing('payments', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  // A later setup (a service started inside the embedded stack) changes nothing.
  await setupTracing('courses', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' });
  expect(activeTracer()).toBeDefined();
  expect((globalThis as Record<string, unknown>).PRISMA_INSTRUMENTATION).toBeDefined();

  startServerSpan('payments', 'graphql.request', {})!.span.end();
  await flushTracing();
  await vi.waitUntil(() => received.length > 0, { timeout: 5_000 });
  const [request] = received;
  expect(request!.path).toBe('/v1/traces');
  // Protobuf or JSON, the strings are there as written.
  expect(request!.body.toString('latin1')).toContain('payments');
  expect(request!.body.toString('latin1')).toContain('graphql.request');
});
