/**
 * The OpenTelemetry SDK side of tracing.ts, imported only once tracing is turned on, so a process
 * with tracing off never loads the SDK, the exporter or Prisma's instrumentation.
 */
import { context, propagation, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { SERVICE_ATTRIBUTE, serviceOf, type RunningTracing } from './tracing-service.ts';

export interface TracingSetup {
  /** service.name of every span of the process. */
  service: string;
  /** OTLP over HTTP (batched), or memory (each span as it ends, for tests). */
  exporter: { otlpUrl: string } | { memory: InMemorySpanExporter };
  /** Spans of Prisma's queries; off in the router, which never loads Prisma. */
  prisma: boolean;
}

/** Names the service of each span, from the context it starts in (tracing.ts withService). */
class ServiceAttributeProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const service = serviceOf(parentContext);
    if (service) span.setAttribute(SERVICE_ATTRIBUTE, service);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export const inMemoryExporter = () => new InMemorySpanExporter();

export async function startTracing(setup: TracingSetup): Promise<RunningTracing> {
  const exporting =
    'memory' in setup.exporter ? new SimpleSpanProcessor(setup.exporter.memory) : new BatchSpanProcessor(new OTLPTraceExporter({ url: setup.exporter.otlpUrl }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: setup.service }),
    spanProcessors: [new ServiceAttributeProcessor(), exporting],
  });
  // Registers the AsyncLocalStorage context manager too: the active span follows each request
  // through promises, which is how Prisma's spans and the logger find it.
  const propagator = new W3CTraceContextPropagator();
  provider.register({ propagator });
  // Prisma 7 asks a global helper at each query; the instrumentation sets it (and unsets it on
  // disable). Created disabled, so it never binds to a provider other than this one.
  let prisma: { disable(): void } | undefined;
  if (setup.prisma) {
    const { PrismaInstrumentation } = await import('@prisma/instrumentation');
    const instrumentation = new PrismaInstrumentation({ enabled: false });
    instrumentation.setTracerProvider(provider);
    instrumentation.enable();
    prisma = instrumentation;
  }
  return {
    tracer: provider.getTracer('@campus/kit'),
    propagator,
    flush: () => provider.forceFlush(),
    async shutdown() {
      prisma?.disable();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
