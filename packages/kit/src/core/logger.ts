/**
 * Logs (pino; docs/observability.md). Secrets never reach a log line: the paths below are redacted.
 *
 * Every line written while a request is served carries its `requestId` (request-scope.ts), and,
 * while tracing is on, the `traceId` and `spanId` of the active span, so a line leads to its trace
 * and a trace to its lines. Both come from a mixin, read when the line is written: no logger has
 * to be handed down a request to get them.
 *
 * JSON lines, except on a terminal outside production, where pino-pretty makes them readable.
 * It runs as a stream in this thread (a worker-thread transport would only pay off under load a
 * developer's terminal never sees); tests and CI are not terminals, so their output stays JSON.
 */
import { trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoPretty } from './lazy-modules.ts';
import { currentRequestId } from './request-scope.ts';
import { requestTrace } from './tracing.ts';

export type { Logger };

/**
 * What the mixin adds to a line. `requestId` is left out when the logger already binds one
 * (the subgraphs' per-request child loggers do), so a line never carries the key twice.
 * A new object every time: pino merges the line's own fields into it.
 */
function requestFields(merge: object, logger: Logger): Record<string, string> {
  const fields: Record<string, string> = {};
  const requestId = currentRequestId();
  if (requestId && !String((logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym] ?? '').includes('"requestId":')) {
    fields.requestId = requestId;
  }
  // The active span; else, for a line about a request written outside its context (an access log
  // on 'close'), the trace of the request it names.
  let sc: SpanContext | undefined = trace.getActiveSpan()?.spanContext();
  if (!sc) {
    const named = requestId ?? (merge as { requestId?: unknown }).requestId;
    if (typeof named === 'string') sc = requestTrace(named);
  }
  // Only a sampled span is exported: an id of a trace nobody can open would only mislead.
  if (sc && sc.traceFlags & TraceFlags.SAMPLED) {
    fields.traceId = sc.traceId;
    fields.spanId = sc.spanId;
  }
  return fields;
}

/** Pretty lines for a person at a terminal; JSON for everything that reads logs (files, collectors, CI). */
export function wantsPrettyLogs(stdoutIsTTY: boolean | undefined = process.stdout.isTTY, env: Record<string, string | undefined> = process.env): boolean {
  return stdoutIsTTY === true && env.NODE_ENV !== 'production';
}

/** Where lines go unless a test captures them (captureLogLines). */
function destination(): DestinationStream | undefined {
  if (capture) return capture.stream;
  if (wantsPrettyLogs()) {
    return pinoPretty()({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  }
  return undefined;
}

export function createLogger(service: string, level: string = 'info'): Logger {
  const options = {
    name: service,
    level: capture?.level ?? level,
    base: { service },
    mixin: (merge: object, _level: number, logger: Logger) => requestFields(merge, logger),
    redact: {
      paths: [
        'password',
        '*.password',
        '*.newPassword',
        '*.currentPassword',
        'refreshToken',
        '*.refreshToken',
        'accessToken',
        '*.accessToken',
        'headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  const stream = destination();
  return stream ? pino(options, stream) : pino(options);
}

let capture: { level: string; stream: DestinationStream } | undefined;

export interface CapturedLogs {
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Every line written so far, as written. */
  text(): string[];
  /** Loggers created from here on write to stdout again; those created meanwhile write nowhere. */
  stop(): void;
}

/**
 * For tests: every logger created from now on (until `stop`) writes its JSON lines here, at
 * `level` whatever it was asked for, e.g. around starting a test stack whose log level is silent.
 */
export function captureLogLines(level = 'debug'): CapturedLogs {
  const raw: string[] = [];
  let open = true;
  capture = { level, stream: { write: (line: string) => void (open && raw.push(line)) } };
  return {
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => [...raw],
    stop() {
      open = false;
      capture = undefined;
    },
  };
}
