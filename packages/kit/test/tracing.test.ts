/**
 * Tracing on and off (src/core/tracing.ts) and the trace in log lines (src/core/logger.ts), in one
 * process: the in-memory exporter tests install, the API's context as requests see it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogLines, createLogger, wantsPrettyLogs } from '../src/core/logger.ts';
import { runWithRequestId } from '../src/core/request-scope.ts';
import {
  activeTracer,
  currentTraceContext,
  inLinkedSpan,
  installTestTracing,
  setupTracing,
  shutdownTracing,
  startServerSpan,
  traceHeaders,
  tracesEndpoint,
} from '../src/core/tracing.ts';
import { context } from '@opentelemetry/api';

afterEach(() => shutdownTracing());

describe('tracing', () => {
  it('is on only with an OTLP endpoint', () => {
    expect(tracesEndpoint({})).toBeUndefined();
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' })).toBe('http://localhost:4318/v1/traces');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/traces' })).toBe('http://b/traces');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });

  it('off, makes no spans and hands out nothing to propagate', async () => {
    await setupTracing('courses', {});
    expect(activeTracer()).toBeUndefined();
    expect(startServerSpan('courses', 'graphql.request', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toBeUndefined();
    expect(traceHeaders()).toEqual({});
    expect(currentTraceContext()).toBeUndefined();
    expect(await inLinkedSpan('courses', 'process X', undefined, () => ({}), async () => 42)).toBe(42);
  });

  it('on, continues a caller, and stores a context an event consumer links to', async () => {
    const tracing = await installTestTracing('campus');
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const server = startServerSpan('courses', 'graphql.request', { traceparent: caller })!;
    const stored = context.with(server.context, () => currentTraceContext());
    server.span.end();
    expect(stored?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);

    await inLinkedSpan('payments', 'process CourseUpdated', stored, () => ({ 'messaging.message.id': 'e1' }), async () => undefined);
    const [request, consumer] = tracing.spans();
    expect(request!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(request!.attributes['campus.service']).toBe('courses');
    expect(consumer!.parentSpanContext).toBeUndefined();
    expect(consumer!.attributes['campus.service']).toBe('payments');
    expect(consumer!.links[0]!.context.spanId).toBe(request!.spanContext().spanId);
  });
});

describe('log lines', () => {
  const linesOf = (write: (logger: ReturnType<typeof createLogger>) => void) => {
    const capture = captureLogLines('info');
    try {
      write(createLogger('courses'));
      return capture.lines();
    } finally {
      capture.stop();
    }
  };

  it('carry the request id in a request, and its trace while tracing is on', async () => {
    expect(linesOf((log) => log.info('outside'))[0]).not.toHaveProperty('requestId');
    const [plain] = linesOf((log) => runWithRequestId('r-1', () => log.info('inside')));
    expect(plain).toMatchObject({ requestId: 'r-1', msg: 'inside' });
    expect(plain).not.toHaveProperty('traceId');

    await installTestTracing();
    const server = startServerSpan('courses', 'graphql.request', {})!;
    const [traced] = linesOf((log) => runWithRequestId('r-2', () => context.with(server.context, () => log.info({ n: 1 }, 'traced'))));
    expect(traced).toMatchObject({ requestId: 'r-2', traceId: server.span.spanContext().traceId, spanId: server.span.spanContext().spanId, n: 1 });
  });

  it('do not repeat a request id the logger binds already', () => {
    const capture = captureLogLines('info');
    const text: string[] = [];
    try {
      runWithRequestId('r-3', () => createLogger('courses').child({ requestId: 'r-3' }).info('once'));
      text.push(...capture.text());
    } finally {
      capture.stop();
    }
    expect(text[0]!.split('"requestId"').length).toBe(2);
  });

  it('are pretty on a terminal outside production only', () => {
    expect(wantsPrettyLogs(true, {})).toBe(true);
    expect(wantsPrettyLogs(true, { NODE_ENV: 'production' })).toBe(false);
    // Tests and CI: not a terminal, so JSON.
    expect(wantsPrettyLogs(undefined, {})).toBe(false);
    expect(wantsPrettyLogs(false, { NODE_ENV: 'development' })).toBe(false);
  });
});
