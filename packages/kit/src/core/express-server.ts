/**
 * The HTTP server of an Express app, every service's (router/src/server.ts,
 * packages/kit/src/subgraph/subgraph-server.ts): its requests and responses are born with the
 * app's prototypes (`app.request`, `app.response`) instead of being given them by Express when
 * they arrive.
 *
 * Why: Express gives each request and response its prototype with `Object.setPrototypeOf`, once
 * Node has built them. On an object already built, that makes V8 give it a new shape and drop what
 * its inline caches had learned, and every property Node, Express and our handlers read on it
 * afterwards pays for it: the router's CPU per small answer went down by a fifth without it
 * (docs/performance.md, "Born with Express's prototypes"). Express setting the same prototype
 * again when the request arrives costs nothing, so Express behaves as before.
 */
import { createServer, IncomingMessage, ServerResponse, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/** Node's server options that build requests and responses with the app's prototypes. */
function expressServerOptions(app: Express): ServerOptions {
  // Constructors as Node's own are (functions, not classes), so that their prototype can be the
  // app's objects themselves; a class's prototype cannot be replaced.
  function AppRequest(this: IncomingMessage, socket: Socket) {
    IncomingMessage.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: unknown) {
    (ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: unknown) => void).call(this, req, options);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}

/** `http.createServer(app)`, with requests and responses born with the app's prototypes; `listener` is the app unless given. */
export function createExpressServer(app: Express, listener: RequestListener = app): Server {
  return createServer(expressServerOptions(app), listener);
}
