/**
 * Following one GraphQL request over HTTP from arrival to answer, for the request series
 * (metrics.ts) and the access log (access-log.ts):
 *
 *   begin       first on the GraphQL routes: starts the clock, fixes the request id (so the
 *               router's context, its subgraph fetches and the access log share one), and on
 *               close counts the request and writes its access log line, whatever answered it
 *               (Apollo Server, an edge refusal, a bad body)
 *   scope       after the JSON body parser: from here on the request's code runs in the
 *               request's scope (@campus/kit's request-scope.ts), whose value is its observation
 *               with its id: the one AsyncLocalStorage the router uses per request. (Not earlier:
 *               the body parser resumes from the socket's events, which would drop the scope.)
 *   plugin      Apollo Server's hooks: the operation's name and type once it validated (the fast
 *               path, fast-path/fast-path.ts, reports them through operationResolved)
 *   formatError every error sent to a client passes through it, on HTTP and graphql-ws: it notes
 *               the code in the current request's observation and counts edge refusals
 *
 * Errors answered without formatError (bad JSON, too large, wrong content type: edge/http-errors.ts)
 * are read from the JSON body they are sent as.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { currentRequestScope, Headers, requestIdScope, requestInfo, runInRequestScope, type Logger, type RequestScope } from '@campus/kit/core';
import type { Request, RequestHandler, Response } from 'express';
import type { GraphQLFormattedError } from 'graphql';
import type { RouterContext } from '../context.ts';
import type { FormatError } from '../edge/error-codes.ts';
import { logAccess } from './access-log.ts';
import type { OperationType, RouterMetrics } from './metrics.ts';
import { outcomeOf, UNCODED } from './outcome.ts';

/** One GraphQL request followed: the value of its scope (a class, so the scope of a request that is not observed is told apart). */
class Observation implements RequestScope {
  readonly started = performance.now();
  operationName: string | undefined = undefined;
  operationType: OperationType = 'unknown';
  validated = false;
  /** Codes of the errors sent, in order. */
  readonly codes: string[] = [];
  context: Promise<RouterContext> | undefined = undefined;
  constructor(readonly requestId: string) {}
}

/** The observation of the request in scope, if it is one the router observes. */
function observed(): Observation | undefined {
  const scope = currentRequestScope();
  return scope instanceof Observation ? scope : undefined;
}

export interface HttpRequestObservation {
  begin: RequestHandler;
  scope(contextOf: (req: Request) => Promise<RouterContext>): RequestHandler;
  plugin: ApolloServerPlugin<RouterContext>;
  /** The request in scope has a valid operation (the plugin's hook, or the fast path's, fast-path/fast-path.ts). */
  operationResolved(operationName: string | undefined, operationType: OperationType): void;
  /** Wraps the router's formatError (edge/error-codes.ts); used for HTTP and graphql-ws alike. */
  formatError(inner: FormatError): FormatError;
}

/** A GraphQL request, not a CORS preflight or a browser asking for Sandbox's page. */
function isGraphQLRequest(req: Request): boolean {
  if (req.method === 'POST') return true;
  if (req.method !== 'GET') return false;
  const query = req.query as Record<string, unknown>;
  return query.query !== undefined || query.extensions !== undefined;
}

function operationNameSent(req: Request): string | undefined {
  const source = (req.method === 'GET' ? req.query : req.body) as { operationName?: unknown } | undefined;
  const name = source && typeof source === 'object' ? source.operationName : undefined;
  return typeof name === 'string' && name ? name : undefined;
}

const codeOf = (error: Pick<GraphQLFormattedError, 'extensions'>) => {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : UNCODED;
};

export function observeHttpRequests(metrics: RouterMetrics, logger: Logger): HttpRequestObservation {
  const observations = new WeakMap<Request, Observation>();

  async function finish(req: Request, res: Response, observation: Observation): Promise<void> {
    const seconds = (performance.now() - observation.started) / 1000;
    const aborted = !res.writableFinished;
    const status = res.statusCode;
    const codes = aborted && !observation.codes.length ? ['CLIENT_CLOSED_REQUEST'] : observation.codes;
    const { outcome, code } = outcomeOf(status, codes);
    const operationName = observation.validated ? observation.operationName : operationNameSent(req);
    metrics.request({ transport: 'http', operationName, operationType: observation.operationType, validated: observation.validated, outcome, code, seconds });
    // Settled by now (Apollo Server awaited it to answer); a bad token is an anonymous request.
    const viewer = await observation.context?.then((c) => c.viewer, () => null);
    logAccess(logger, {
      requestId: observation.requestId,
      method: req.method,
      operationName,
      operationType: observation.operationType,
      status,
      outcome,
      errorCode: code,
      durationMs: seconds * 1000,
      clientAddress: req.ip,
      userId: viewer?.id ?? undefined,
      ...(aborted ? { aborted } : {}),
    });
  }

  function operationResolved(operationName: string | undefined, operationType: OperationType): void {
    const observation = observed();
    if (!observation) return;
    observation.validated = true;
    observation.operationName = operationName;
    observation.operationType = operationType;
  }

  return {
    begin(req, res, next) {
      if (!isGraphQLRequest(req)) return next();
      const { requestId } = requestInfo(req);
      // requestInfo() makes up a fresh id on every call when the client sent none (or a bad one):
      // written back, every later reader (the context, signed fetches, this log) gets the same one.
      req.headers[Headers.requestId] = requestId;
      const observation = new Observation(requestId);
      observations.set(req, observation);
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        // Errors that did not pass through formatError (edge/http-errors.ts): read them here.
        const errors = (body as { errors?: unknown } | undefined)?.errors;
        if (!observation.codes.length && Array.isArray(errors)) {
          for (const error of errors as GraphQLFormattedError[]) {
            observation.codes.push(codeOf(error));
            metrics.refusal(error);
          }
        }
        return json(body);
      };
      res.once('close', () => {
        finish(req, res, observation).catch((err: unknown) => logger.warn({ err }, 'could not record a request'));
      });
      next();
    },
    scope(contextOf) {
      return (req, res, next) => {
        const observation = observations.get(req);
        // Not a GraphQL request (a CORS preflight, Sandbox's page): its id alone in scope.
        if (!observation) return requestIdScope(req, res, next);
        observation.context = contextOf(req);
        runInRequestScope(observation, next);
      };
    },
    plugin: {
      async requestDidStart() {
        if (!observed()) return;
        return {
          async didResolveOperation(rc) {
            if (rc.operation) operationResolved(rc.operationName ?? undefined, rc.operation.operation);
          },
        };
      },
    },
    operationResolved,
    formatError(inner) {
      return (formatted, error) => {
        const result = inner(formatted, error);
        observed()?.codes.push(codeOf(result));
        metrics.refusal(result);
        return result;
      };
    },
  };
}
