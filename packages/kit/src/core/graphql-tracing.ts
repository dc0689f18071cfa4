/**
 * The server side of a GraphQL request, for the router and the subgraphs alike
 * (docs/observability.md): the request id in scope for its log lines, and, while tracing is on,
 * one server span that continues the caller's trace and names the operation.
 *
 *   requestIdScope          middleware: runs the rest of the request with its id in scope
 *   graphqlServerSpan(svc)  middleware: the span `graphql.request`, renamed `<type> <name>` by
 *   graphqlSpanPlugin()     the Apollo Server plugin once the operation is known, with its
 *                           error codes and outcome at the end
 *
 * Both middlewares go after the body parser: the scope they open follows promises, not the body
 * stream's events (request-scope.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { context, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { GraphQLFormattedError } from 'graphql';
import { requestInfo } from './request-info.ts';
import { runWithRequestId } from './request-scope.ts';
import { rememberRequestTrace, requestSpan, startServerSpan, tracingOn } from './tracing.ts';

type Next = (err?: unknown) => void;

export const GRAPHQL_SPAN = 'graphql.request';

/** Codes that mean the request failed on our side rather than the client's: the span's status is ERROR. */
const FAULT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE']);

export function requestIdScope(req: IncomingMessage, _res: ServerResponse, next: Next): void {
  runWithRequestId(requestInfo(req).requestId, next);
}

/** The request's server span for `service` (nothing while tracing is off). */
export function graphqlServerSpan(service: string) {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    // First, so that a request allocates nothing for tracing while it is off.
    if (!tracingOn()) return next();
    const started = startServerSpan(service, GRAPHQL_SPAN, req.headers, {
      'http.request.method': req.method ?? 'POST',
      // Express's originalUrl: under app.use('/graphql', ...) `url` is only what follows the mount.
      'url.path': ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '').split('?')[0] ?? '',
    });
    if (!started) return next();
    const { span } = started;
    rememberRequestTrace(requestInfo(req).requestId, span, res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.statusCode}` });
      if (!res.writableFinished) span.setAttribute('campus.aborted', true);
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(started.context, next);
  };
}

/** Writes the operation, its error codes and its outcome on the request's server span. */
export function graphqlSpanPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const span = requestSpan();
      if (!span) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (operation) nameSpan(span, operation.operation, operationName ?? undefined);
        },
        async willSendResponse({ response }) {
          const single = response.body.kind === 'single' ? response.body.singleResult : undefined;
          recordOutcome(span, single?.errors, response.body.kind === 'single' && !!single?.data);
        },
      };
    },
  };
}

/**
 * The same two records for a server that answers without Apollo Server's hooks (the router's
 * fast path): call `operation` once the operation is known, `answered` with what is sent.
 */
export function graphqlRequestSpan(): { operation(type: string, name: string | undefined): void; answered(errors: readonly GraphQLFormattedError[] | undefined, hasData: boolean): void } | undefined {
  const span = requestSpan();
  if (!span) return undefined;
  return { operation: (type, name) => nameSpan(span, type, name), answered: (errors, hasData) => recordOutcome(span, errors, hasData) };
}

function nameSpan(span: Span, type: string, name: string | undefined): void {
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttribute('graphql.operation.type', type);
  if (name) span.setAttribute('graphql.operation.name', name);
}

function recordOutcome(span: Span, errors: readonly GraphQLFormattedError[] | undefined, hasData: boolean): void {
  if (!errors?.length) {
    span.setAttribute('graphql.outcome', 'ok');
    return;
  }
  const codes = [...new Set(errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR')))];
  // Errors beside data: the client still got part of what it asked for.
  span.setAttribute('graphql.outcome', hasData ? 'partial' : 'error');
  span.setAttribute('graphql.error.codes', codes);
  const fault = codes.find((c) => FAULT_CODES.has(c));
  if (fault) span.setStatus({ code: SpanStatusCode.ERROR, message: fault });
}
