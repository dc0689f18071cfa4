/**
 * Traces (docs/observability.md): one OpenTelemetry tracer provider per process, named after the
 * process (`router`, `users`, `courses`, `payments`, or `campus` for the embedded stack, where
 * every span also says which service made it: `campus.service`).
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Off means
 * free: no provider is registered, the SDK is not even loaded (tracing-sdk.ts is imported only
 * when tracing starts), and every helper below returns at its first line when `activeTracer()` is
 * undefined, so a request allocates nothing for tracing.
 *
 * This module needs only the API (the W3C propagator comes with the SDK, in RunningTracing).
 * Everything that starts spans goes through `activeTracer()` rather than `trace.getTracer()`: the
 * API's proxy tracer would allocate on every call while off, and would keep a provider that tests
 * have since shut down.
 */
import {
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Env } from './config.ts';
import { withService, type RunningTracing } from './tracing-service.ts';

export { SERVICE_ATTRIBUTE, serviceOf, withService, type RunningTracing } from './tracing-service.ts';

let running: RunningTracing | undefined;
let starting: Promise<void> | undefined;

/** The server span of the request being served: where the GraphQL plugin writes the operation. */
const REQUEST_SPAN = createContextKey('campus.request-span');

/** The tracer while tracing is on; undefined while it is off. */
export function activeTracer(): Tracer | undefined {
  return running?.tracer;
}

/** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
export function tracesEndpoint(env: Env): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Starts tracing for this process when `env` asks for it. Called by every entry point (runService,
 * the router's index.ts, the embedded stack); the first call decides, later ones change nothing,
 * so the embedded stack's `campus` is not overridden by the services it starts.
 */
export function setupTracing(service: string, env: Env = process.env, options: { prisma?: boolean } = {}): Promise<void> {
  if (running || starting) return starting ?? Promise.resolve();
  const url = tracesEndpoint(env);
  if (!url) {
    starting = Promise.resolve();
    return starting;
  }
  starting = import('./tracing-sdk.ts').then(async (sdk) => {
    running = await sdk.startTracing({ service, exporter: { otlpUrl: url }, prisma: options.prisma ?? true });
  });
  return starting;
}

/** Exports buffered spans; a no-op while tracing is off. */
export async function flushTracing(): Promise<void> {
  await running?.flush();
}

/** A span as an exporter sees it, once ended (what tests read). */
export type FinishedSpan = ReadableSpan;

export interface TestTracing {
  /** Every span ended since the start (or the last reset). */
  spans(): FinishedSpan[];
  reset(): void;
  /** Stops tracing again: the process is back to the API's no-op tracer. */
  shutdown(): Promise<void>;
}

/**
 * For tests: tracing on, into memory (InMemorySpanExporter behind a SimpleSpanProcessor, so a span
 * is readable as soon as it ends), as the process `service`. Replaces whatever ran before.
 */
export async function installTestTracing(service = 'campus'): Promise<TestTracing> {
  await shutdownTracing();
  const sdk = await import('./tracing-sdk.ts');
  const exporter: InMemorySpanExporter = sdk.inMemoryExporter();
  const started = await sdk.startTracing({ service, exporter: { memory: exporter }, prisma: true });
  running = started;
  starting = Promise.resolve();
  return {
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    shutdown: shutdownTracing,
  };
}

/** Stops tracing (tests, and nothing else: a process keeps its provider until it exits). */
export async function shutdownTracing(): Promise<void> {
  const was = running;
  running = undefined;
  starting = undefined;
  await was?.shutdown();
}

/**
 * The context a caller's W3C headers (traceparent, tracestate) describe; ROOT_CONTEXT without them,
 * and while tracing is off (nothing would read it: the propagator comes with the SDK).
 */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return running ? running.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) : ROOT_CONTEXT;
}

/**
 * The W3C headers of the active span (traceparent, and tracestate when it has one), to continue the
 * trace in another service; empty while tracing is off or no span is active.
 */
export function traceHeaders(ctx?: Context): Readonly<Record<string, string>> {
  if (!running) return NO_HEADERS;
  const active = ctx ?? context.active();
  if (!trace.getSpanContext(active)) return NO_HEADERS;
  const carrier: Record<string, string> = {};
  running.propagator.inject(active, carrier, defaultTextMapSetter);
  return carrier;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The trace context of the code running now, to store beside something that outlives it (an outbox
 * row: the event's consumer links back to it); undefined while tracing is off or outside a span.
 */
export function currentTraceContext(): Record<string, string> | undefined {
  if (!running) return undefined;
  const carrier = traceHeaders();
  return carrier.traceparent ? { ...carrier } : undefined;
}

/** The span context a stored trace context describes, if it is a valid one (undefined while tracing is off). */
export function spanContextOf(carrier: Record<string, string> | undefined): SpanContext | undefined {
  if (!carrier || typeof carrier !== 'object') return undefined;
  const sc = trace.getSpanContext(contextFromHeaders(carrier));
  return sc && isSpanContextValid(sc) ? sc : undefined;
}

export interface ServerSpan {
  span: Span;
  /** Run the request inside: its spans are children, its logs carry the trace id. */
  context: Context;
}

/**
 * A server span for one request of `service`, continuing the caller's trace from `headers`
 * (or starting one). Undefined while tracing is off.
 */
export function startServerSpan(service: string, name: string, headers: Record<string, string | string[] | undefined>, attributes: Attributes = {}): ServerSpan | undefined {
  const tracer = running?.tracer;
  if (!tracer) return undefined;
  const parent = withService(contextFromHeaders(headers), service);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span).setValue(REQUEST_SPAN, span) };
}

/**
 * The trace of each request in flight, by request id: for lines logged about a request outside
 * its span's context (an access log written when the response closes, from the socket's event),
 * which name the request id but cannot see the span. Kept until just after the response closes.
 */
const inFlight = new Map<string, SpanContext>();

export function rememberRequestTrace(requestId: string, span: Span, res: { once(event: 'close', fn: () => void): unknown }): void {
  inFlight.set(requestId, span.spanContext());
  // After every other listener of 'close' (the access log's among them) has run.
  res.once('close', () => setImmediate(() => inFlight.delete(requestId)));
}

/** The trace of request `requestId` while it is in flight (rememberRequestTrace). */
export function requestTrace(requestId: string): SpanContext | undefined {
  return running ? inFlight.get(requestId) : undefined;
}

/** The server span of the request being served here (startServerSpan), if any. */
export function requestSpan(ctx: Context = context.active()): Span | undefined {
  return ctx.getValue(REQUEST_SPAN) as Span | undefined;
}

/**
 * Runs `fn` in a span of its own that starts a new trace and LINKS to the span described by
 * `link` (a stored trace context): the handling of an event is caused by the transaction that
 * wrote it, but is not part of that request (it runs later, maybe many times). Without tracing,
 * just runs `fn`.
 */
export function inLinkedSpan<T>(service: string, name: string, link: Record<string, string> | undefined, attributes: () => Attributes, fn: () => Promise<T>): Promise<T> {
  const tracer = running?.tracer;
  // Not async itself: while off, a delivery costs one call more, not a promise more.
  return tracer ? linkedSpan(tracer, service, name, link, attributes, fn) : fn();
}

async function linkedSpan<T>(tracer: Tracer, service: string, name: string, link: Record<string, string> | undefined, attributes: () => Attributes, fn: () => Promise<T>): Promise<T> {
  const linked = spanContextOf(link);
  const parent = withService(ROOT_CONTEXT, service);
  const span = tracer.startSpan(name, { kind: SpanKind.CONSUMER, root: true, attributes: attributes(), links: linked ? [{ context: linked }] : [] }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed by `error` (an exception event, and status ERROR). */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Attributes a finished call writes on its span: codes, statuses. */
export type SpanAttributes = Attributes;

/**
 * Runs `fn` in a client span, a child of the active one (a call to another service, whose server
 * span becomes its child through traceHeaders()). `describe` turns the result into attributes
 * (error codes a response carries); a throw fails the span. Without tracing, just runs `fn`.
 */
export async function inClientSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>, describe?: (result: T) => Attributes): Promise<T> {
  const tracer = running?.tracer;
  if (!tracer) return fn();
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
  try {
    const result = await context.with(trace.setSpan(context.active(), span), fn);
    if (describe) span.setAttributes(describe(result));
    return result;
  } catch (error) {
    const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
    if (typeof code === 'string') span.setAttribute('graphql.error.codes', [code]);
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records an HTTP answer on the active span (status ERROR from 500 on); nothing while tracing is off. */
export function recordHttpStatus(status: number): void {
  if (!running) return;
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
}

/** Whether spans are being made (tracing is on). */
export const tracingOn = (): boolean => running !== undefined;
