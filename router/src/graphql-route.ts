/**
 * The GraphQL route (POST, GET and OPTIONS on / and /graphql) served from Node's request listener,
 * its middleware called in order, without Express's router (docs/performance.md, "The fast path").
 *
 * Why: under a small query, Express's routing (matching every layer of the app against the path,
 * and the bookkeeping of `next` across layers) was about a twentieth of the router's CPU per answer,
 * for a route whose handlers are a fixed list. Everything else (health, readiness, metrics, the
 * JWKS, the answer while the router starts) stays Express's, and the handlers are Express's too:
 * each request has Express's request and response prototypes, as `app.handle` gives them (the
 * router's server builds them with those prototypes already, packages/kit/src/core/express-server.ts),
 * so `req.ip`, `req.get`, `res.json` and the trust-proxy setting behave exactly as under the router.
 *
 * What Express's router does for a route that this does as well: the path matched as Express 5
 * matches `app.all(['/', '/graphql'])` (case-insensitive, an optional trailing slash, the query
 * string ignored), `originalUrl` and `baseUrl` set, an error passed to `next` (or thrown, or a
 * rejected promise) skipping the remaining handlers for the error handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';

export interface GraphqlRoute {
  /** Node's request listener: the GraphQL paths to the route's handlers once served, anything else to the app. */
  listener(req: IncomingMessage, res: ServerResponse): void;
  /** From now on the GraphQL paths run `handlers` in order; an error any of them passes on goes to `onError`. */
  serve(handlers: RequestHandler[], onError: ErrorRequestHandler): void;
}

/** `app.all(['/', '/graphql'])`'s paths under Express 5's defaults (not case-sensitive, not strict). */
export function isGraphqlPath(url: string | undefined): boolean {
  const question = url?.indexOf('?') ?? -1;
  const path = question >= 0 ? url!.slice(0, question) : (url ?? '');
  return /^\/(?:graphql)?\/?$/i.test(path);
}

export function graphqlRoute(app: Express): GraphqlRoute {
  let route: { handlers: RequestHandler[]; onError: ErrorRequestHandler } | undefined;

  function run(req: Request, res: Response, handlers: RequestHandler[], onError: ErrorRequestHandler) {
    let index = 0;
    let failed = false;
    const next: NextFunction = (err?: unknown) => {
      // Past the last handler (Apollo Server's, which always answers), or leaving the route: Express would end in a 404.
      if (err === 'route' || err === 'router') return notFound(res);
      // Falsy is no error, as Express's router reads it.
      if (err) return fail(err);
      const handler = handlers[index++];
      if (!handler) return notFound(res);
      call(() => handler(req, res, next));
    };
    const fail = (err: unknown) => {
      if (failed) return; // an error handler's own failure: as Express's final handler, end the exchange
      failed = true;
      call(() => onError(err, req, res, () => req.socket.destroy()));
    };
    const call = (invoke: () => unknown) => {
      try {
        const returned = invoke();
        if (returned instanceof Promise) returned.catch((err: unknown) => next(err ?? new Error('Rejected promise')));
      } catch (err) {
        next(err);
      }
    };
    next();
  }

  return {
    listener(incoming, outgoing) {
      if (!route || !isGraphqlPath(incoming.url)) return void app(incoming, outgoing);
      // As app.handle and the router prepare a request for the handlers of a matched route (the
      // prototypes are already these under createExpressServer, and setting them again costs nothing).
      const req = Object.setPrototypeOf(incoming, app.request) as Request;
      const res = Object.setPrototypeOf(outgoing, app.response) as Response;
      req.res = res;
      res.req = req;
      res.locals ??= Object.create(null);
      req.originalUrl ??= req.url;
      req.baseUrl = '';
      req.params = {};
      run(req, res, route.handlers, route.onError);
    },
    serve(handlers, onError) {
      route = { handlers, onError };
    },
  };
}

function notFound(res: Response) {
  if (res.headersSent) return;
  res.statusCode = 404;
  res.end();
}
