/**
 * The fast path for GraphQL over HTTP (docs/performance.md, "The fast path"): the common request,
 * a POST of an operation the router has seen before, answered without Apollo Server's request
 * pipeline, with the same checks in the same order and the same answer, byte for byte.
 *
 * It sits in the GraphQL route's middleware just before Apollo Server (server.ts), so everything
 * before it is unchanged: the request's observation, CORS, the JSON body, its scopes and span, and
 * the edge's source stage (rate limits, trusted documents, token count). What it takes over is
 * Apollo Server's part for that request:
 *
 *   document     parsed and validated once per supergraph (prepared-operations.ts), not looked
 *                up, hashed and re-checked per request by Apollo Server's pipeline and plugins
 *   admission    the edge's operation stage (edge/admission.ts), as Apollo Server's hook runs it
 *   execution    planning/executor.ts, as Apollo Server's gateway executor
 *   answer       graphql-response.ts: Apollo Server's error and status rules and the router's
 *                plugins' (Retry-After, no-store, the size cap), with one serialization of the data
 *
 * Anything else goes on to Apollo Server, untouched: a body Apollo Server would refuse or read
 * differently (persisted queries, any `extensions`), an operation that does not parse or validate,
 * introspection, subscriptions, an Accept header it would answer 406, a bad token (401), and
 * requests an Apollo Server plugin must see (an anonymous query while the response cache is on,
 * the cost report header). Once the fast path has run the admission checks it never hands a
 * request over unchecked: a refusal is left in the context for the admission hook to answer, so
 * nothing is counted twice (edge/admission.ts).
 */
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { graphqlRequestSpan, type Logger } from '@campus/kit/core';
import type { Request, RequestHandler } from 'express';
import type { RouterContext } from '../context.ts';
import { admit, type AdmissionChecks } from '../edge/admission.ts';
import type { FormatError } from '../edge/error-codes.ts';
import type { OperationType } from '../observability/metrics.ts';
import type { SupergraphTracker } from '../planning/supergraph-state.ts';
import { answerContentType, graphqlAnswer } from './graphql-response.ts';
import type { PreparedOperations } from './prepared-operations.ts';

export interface FastPathOptions {
  tracker: SupergraphTracker;
  prepared: PreparedOperations;
  execute(requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult>;
  contextOf(req: Request): Promise<RouterContext>;
  admission: AdmissionChecks;
  formatError: FormatError;
  includeStacktraceInErrorResponses: boolean;
  maxResponseBytes: number;
  /** The request's observation learns the operation (observability/http-requests.ts). */
  operationResolved(operationName: string | undefined, operationType: OperationType): void;
  /** Counts each answer (observability/metrics.ts). */
  onAnswered(): void;
  /** False for requests an Apollo Server plugin must handle (server.ts says which). */
  mayTake(req: Request, context: RouterContext): boolean;
  logger: Logger;
}

interface PostBody {
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The POST body, when it is one Apollo Server reads exactly as the fast path does; undefined otherwise. */
function plainBody(body: unknown): PostBody | undefined {
  if (!isRecord(body)) return undefined;
  const { query, operationName, variables, extensions } = body;
  if (typeof query !== 'string' || !query) return undefined;
  if (extensions !== undefined) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  return { query, operationName: operationName ?? undefined, variables: variables ?? undefined };
}

export function fastPath(options: FastPathOptions): RequestHandler {
  const { tracker, prepared } = options;

  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const body = plainBody(req.body);
    if (!body) return next();
    const contentType = answerContentType(req.headers.accept);
    const state = tracker.current();
    if (!contentType || !state) return next();
    run(req, res, next, body, contentType, state.apiSchema).catch(next);
  };

  async function run(req: Request, res: Parameters<RequestHandler>[1], next: (err?: unknown) => void, body: PostBody, contentType: string, schema: Parameters<PreparedOperations['get']>[0]) {
    let context: RouterContext;
    try {
      context = await options.contextOf(req);
    } catch {
      return next(); // a bad token: Apollo Server answers it (401)
    }
    if (!options.mayTake(req, context)) return next();
    const operation = prepared.get(schema, body.query, body.operationName);
    if (!operation.supported) return next();

    const { document, operationName } = operation;
    const type = operation.operation.operation;
    options.operationResolved(operationName, type);
    const span = graphqlRequestSpan();
    span?.operation(type, operationName);
    const { queryHash } = operation;
    try {
      await admit(options.admission.operation, {
        transport: 'http',
        query: body.query,
        queryHash,
        context,
        headers: { get: (name) => req.get(name) },
        document,
        operation: operation.operation,
        operationName,
        variables: body.variables ?? {},
      });
    } catch (refusal) {
      context.admitted = true;
      context.refusal = refusal;
      return next();
    }

    let outcome: { result: GatewayExecutionResult } | { thrown: unknown };
    try {
      outcome = { result: await options.execute(requestContext(body, context, operation, queryHash, options.logger)) };
    } catch (thrown) {
      outcome = { thrown };
    }
    const answer = graphqlAnswer(outcome, {
      formatError: options.formatError,
      includeStacktraceInErrorResponses: options.includeStacktraceInErrorResponses,
      maxResponseBytes: options.maxResponseBytes,
      contentType,
    });
    span?.answered(answer.errors, answer.hasData);
    // As @as-integrations/express5 writes Apollo Server's answer.
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    res.statusCode = answer.status;
    res.send(answer.body);
    options.onAnswered();
  }
}

/** What executeQueryPlan and the data sources read of a request (Apollo Server's makeGatewayGraphQLRequestContext builds more). */
function requestContext(
  body: PostBody,
  context: RouterContext,
  operation: Extract<ReturnType<PreparedOperations['get']>, { supported: true }>,
  queryHash: string,
  logger: Logger,
): GatewayGraphQLRequestContext<RouterContext> {
  return {
    request: { query: body.query, operationName: body.operationName, variables: body.variables },
    response: { http: { headers: new Map() as never, status: undefined } },
    logger,
    schema: undefined as never,
    schemaHash: '' as never,
    context,
    cache: undefined as never,
    queryHash,
    document: operation.document,
    source: body.query,
    operationName: operation.operationName ?? null,
    operation: operation.operation,
    metrics: {},
    overallCachePolicy: undefined as never,
  } as unknown as GatewayGraphQLRequestContext<RouterContext>;
}
