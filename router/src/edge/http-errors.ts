/**
 * Clean HTTP edges: whatever goes wrong before Apollo Server sees a request is answered the way
 * Apollo Server answers, as a GraphQL response in JSON with an `extensions.code` and the status
 * that says what happened, never Express's HTML error page with a stack and file paths (which it
 * shows whenever NODE_ENV is not production).
 *
 *   400  BAD_REQUEST             the body is not JSON (or not an object/array), or the request
 *                                was cut off
 *   413  PAYLOAD_TOO_LARGE       the body (after decompression) is over the router's limit
 *   415  UNSUPPORTED_MEDIA_TYPE  a POST body that is not application/json, a charset other than
 *                                UTF-8, or an unknown Content-Encoding
 *   500  INTERNAL_SERVER_ERROR   anything else: logged at error with its stack, which the client
 *                                never sees
 *
 * The client's mistakes are logged at info without a stack: they are expected, and a flood of
 * them is something to count, not a fault to page someone about.
 */
import type { Logger } from '@campus/kit/core';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

export const HttpErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

/** What body-parser (under express.json) and http-errors put on the errors they pass to next(). */
interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  limit?: number;
  charset?: string;
  encoding?: string;
  message?: string;
}

function send(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extra } }] });
}

/**
 * GraphQL over HTTP takes JSON bodies. Without this, a text/plain or form POST reaches Apollo
 * Server with no body and is answered 400 "POST body missing" (or as a CSRF refusal), which hides
 * that the content type is the problem. A POST without a body at all is left to Apollo Server.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && req.is('application/json') === false) {
    const type = req.headers['content-type'] ?? 'none';
    next(Object.assign(new Error(`POST a JSON body with Content-Type: application/json (got ${type}).`), {
      status: 415,
      expose: true,
      type: 'content-type.unsupported',
    }));
    return;
  }
  next();
};

/** Express's error handler for the GraphQL routes: registered after them, it sees their errors. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: HttpishError, req, res, _next) => {
    if (res.headersSent) {
      // Half a response is out: nothing valid can follow it; end the exchange.
      logger.error({ err, method: req.method, path: req.path }, 'error after the response started');
      req.socket.destroy();
      return;
    }
    const status = err.status ?? err.statusCode ?? 500;
    const clientError = status >= 400 && status < 500 && err.expose !== false;
    if (!clientError) {
      logger.error({ err, method: req.method, path: req.path }, 'unexpected error in the HTTP layer');
      send(res, 500, HttpErrorCode.INTERNAL_SERVER_ERROR, 'Something went wrong on our side. It has been logged; try again later.');
      return;
    }
    const [code, message, extra] = describe(err, status);
    logger.info({ code, status, type: err.type, method: req.method, path: req.path }, 'refused an HTTP request');
    send(res, status, code, message, extra);
  };
}

function describe(err: HttpishError, status: number): [code: string, message: string, extra?: Record<string, unknown>] {
  switch (err.type) {
    case 'entity.parse.failed':
      // JSON.parse's own words locate the problem and quote only what the client sent.
      return [HttpErrorCode.BAD_REQUEST, `The request body is not valid JSON: ${err.message}`];
    case 'entity.too.large':
      return [
        HttpErrorCode.PAYLOAD_TOO_LARGE,
        `The request body is larger than the ${err.limit} bytes the router accepts. Send a smaller operation, or fewer variables.`,
        { limitBytes: err.limit },
      ];
    case 'charset.unsupported':
      return [HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, `Unsupported charset "${err.charset}": send UTF-8 JSON.`];
    case 'encoding.unsupported':
      return [HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, `Unsupported Content-Encoding${err.encoding ? ` "${err.encoding}"` : ''}: send the body as is, or gzip, deflate or br.`];
    case 'content-type.unsupported':
      return [HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, err.message ?? 'POST a JSON body with Content-Type: application/json.'];
    case 'request.aborted':
      return [HttpErrorCode.BAD_REQUEST, 'The request body ended before its announced length.'];
    case 'request.size.invalid':
      return [HttpErrorCode.BAD_REQUEST, 'The request body is not as long as its Content-Length says.'];
    default:
      if (status === 413) return [HttpErrorCode.PAYLOAD_TOO_LARGE, err.message ?? 'The request is too large.'];
      if (status === 415) return [HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, err.message ?? 'Unsupported media type.'];
      return [HttpErrorCode.BAD_REQUEST, err.message ?? 'Bad request.'];
  }
}
