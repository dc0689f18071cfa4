/**
 * The answer to a GraphQL request over HTTP, built by the rules Apollo Server 5 answers by
 * (@apollo/server's requestPipeline.js, errorNormalize.js, runHttpQuery.js), so that the fast path
 * (fast-path.ts) sends byte for byte what Apollo Server would have sent for the same result:
 *
 *   errors      every error as a GraphQLError, `extensions.code` INTERNAL_SERVER_ERROR when it has
 *               none, `extensions.http` (status, headers) taken off the error and applied to the
 *               response, a stack trace where Apollo Server adds one, then the router's formatError
 *   variables   an error of variable coercion is BAD_USER_INPUT and, with no data, status 400
 *   thrown      an executor that throws answers its error alone, status 500 unless the error says
 *   body        `{"errors":…,"data":…,"extensions":…}` (absent keys left out) and a newline
 *   type        application/json, or what the Accept header prefers among the types Apollo Server offers
 *
 * The router's own rules on top (the plugins Apollo Server would run): Retry-After and 429 for
 * RATE_LIMITED errors (edge/retry-after.ts), Cache-Control: no-store (response-cache/response-cache.ts),
 * and the response size cap (planning/executor.ts), measured here on the one serialization of the data.
 */
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import { GraphQLError, Kind, type GraphQLFormattedError } from 'graphql';
import Negotiator from 'negotiator';
import type { FormatError } from '../edge/error-codes.ts';
import { applyRetryAfter } from '../edge/retry-after.ts';
import { byteLengthIfOver, responseTooLarge } from '../planning/executor.ts';

/** Apollo Server's MEDIA_TYPES for a single result, in its order of preference. */
const SINGLE_RESULT_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** The content type of the answer, as Apollo Server chooses it; null when the client accepts none (Apollo Server answers 406). */
export function answerContentType(accept: string | undefined): string | null {
  if (!accept) return SINGLE_RESULT_TYPES[0]!;
  return new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_TYPES) ?? null;
}

export interface GraphQLAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
  /** What the body says, for the request's span. */
  errors: GraphQLFormattedError[] | undefined;
  hasData: boolean;
}

export interface AnswerOptions {
  formatError: FormatError;
  includeStacktraceInErrorResponses: boolean;
  maxResponseBytes: number;
  contentType: string;
}

/** The answer to an executed operation: what it returned, or what it threw (`thrown`). */
export function graphqlAnswer(outcome: { result: GatewayExecutionResult } | { thrown: unknown }, options: AnswerOptions): GraphQLAnswer {
  const head = { status: undefined as number | undefined, headers: new Map<string, string>() };
  let errors: readonly GraphQLError[] | undefined;
  let data: unknown;
  let extensions: Record<string, unknown> | undefined;
  let dataJson: string | undefined;
  if ('thrown' in outcome) {
    errors = [ensureGraphQLError(outcome.thrown)];
  } else {
    ({ data, extensions } = outcome.result);
    errors = outcome.result.errors?.map((e) => (isBadUserInputError(e) && e.extensions?.code == null ? userInputError(e) : e));
    if (data !== undefined && data !== null) {
      dataJson = JSON.stringify(data);
      const bytes = byteLengthIfOver(dataJson, options.maxResponseBytes);
      if (bytes !== undefined) {
        // As planning/executor.ts caps it for Apollo Server: the error alone, no data, no extensions.
        data = null;
        dataJson = undefined;
        extensions = undefined;
        errors = [responseTooLarge(bytes, options.maxResponseBytes)];
      }
    }
  }
  const formatted = errors?.length ? errors.map((error) => formatOne(error, options, head)) : errors ? [] : undefined;
  if ('thrown' in outcome) head.status ??= 500;
  else if (errors?.length && data === undefined && head.status === undefined) head.status = 400;

  applyRetryAfter({ headers: head.headers, setStatus: (status) => (head.status = status) }, formatted, data);
  head.headers.set('cache-control', 'no-store');
  head.headers.set('content-type', options.contentType);

  // JSON.stringify({ errors, data, extensions }) + '\n', with the data serialized once (above).
  const parts: string[] = [];
  if (formatted !== undefined) parts.push(`"errors":${JSON.stringify(formatted)}`);
  if (data !== undefined) parts.push(`"data":${dataJson ?? JSON.stringify(data)}`);
  if (extensions !== undefined) parts.push(`"extensions":${JSON.stringify(extensions)}`);
  return { status: head.status ?? 200, headers: head.headers, body: `{${parts.join(',')}}\n`, errors: formatted, hasData: !!data };
}

type Head = { status: number | undefined; headers: Map<string, string> };

function formatOne(error: GraphQLError, options: AnswerOptions, head: Head): GraphQLFormattedError {
  try {
    return options.formatError(enrich(error, options, head), error);
  } catch (formattingError) {
    if (options.includeStacktraceInErrorResponses) return enrich(ensureGraphQLError(formattingError), options, head);
    return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}

function enrich(error: GraphQLError, options: AnswerOptions, head: Head): GraphQLFormattedError {
  const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
  const http = extensions.http as { status?: unknown; headers?: unknown } | undefined;
  if (http && typeof http === 'object' && (!('status' in http) || typeof http.status === 'number') && (!('headers' in http) || http.headers instanceof Map)) {
    if (typeof http.status === 'number' && http.status) head.status = http.status;
    if (http.headers instanceof Map) for (const [name, value] of http.headers) head.headers.set(String(name).toLowerCase(), String(value));
    delete extensions.http;
  }
  if (options.includeStacktraceInErrorResponses) extensions.stacktrace = error.stack?.split('\n');
  return { ...error.toJSON(), extensions };
}

function ensureGraphQLError(thrown: unknown): GraphQLError {
  const error = thrown instanceof Error ? thrown : new GraphQLError(`Unexpected error value: ${String(thrown)}`);
  return error instanceof GraphQLError ? error : new GraphQLError(error.message, { originalError: error });
}

/** graphql-js's messages for a variable that does not coerce (Apollo Server's isBadUserInputGraphQLError). */
function isBadUserInputError(error: GraphQLError): boolean {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (!node || node.kind !== Kind.VARIABLE_DEFINITION) return false;
  const variable = `Variable "$${node.variable.name.value}"`;
  return [`${variable} has invalid value`, `${variable} got invalid value `, `${variable} of required type `, `${variable} of non-null type `].some((start) =>
    error.message.startsWith(start),
  );
}

function userInputError(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    originalError: error.originalError ?? error,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
  });
}
