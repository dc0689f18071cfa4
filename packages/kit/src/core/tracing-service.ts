/**
 * What tracing.ts (the API side) and tracing-sdk.ts (loaded only when tracing starts) both need,
 * apart from either so that neither imports the other: which service a span belongs to, and the
 * shape of a running provider (docs/observability.md).
 */
import { createContextKey, type Context, type TextMapPropagator, type Tracer } from '@opentelemetry/api';

/** The attribute naming the service a span belongs to (several share a process in the embedded stack). */
export const SERVICE_ATTRIBUTE = 'campus.service';

/** The service a span belongs to, carried in the context so that child spans (Prisma's) get it too. */
const SERVICE = createContextKey('campus.service');

/** The service a span started in `ctx` belongs to (read by the SDK's span processor). */
export function serviceOf(ctx: Context): string | undefined {
  return ctx.getValue(SERVICE) as string | undefined;
}

/** A context for `service`'s spans: they and their children carry `campus.service`. */
export function withService(ctx: Context, service: string): Context {
  return ctx.setValue(SERVICE, service);
}

/** What tracing-sdk.ts hands back once a provider runs. */
export interface RunningTracing {
  tracer: Tracer;
  /** W3C trace context (traceparent, tracestate): read from and written to headers. */
  propagator: TextMapPropagator;
  /** Exports what is buffered (before a process exits). */
  flush(): Promise<void>;
  /** Stops the provider and unregisters it (and Prisma's instrumentation) from the API. */
  shutdown(): Promise<void>;
}
