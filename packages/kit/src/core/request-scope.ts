/**
 * The request a piece of code is working for, wherever it is called from: the router and the
 * subgraph server run each GraphQL request inside `runWithRequestId`, and the logger
 * (logger.ts) adds the id to every line written meanwhile, so a line logged deep in a domain
 * function (or by a library handed our logger) still says which request it belongs to.
 *
 * AsyncLocalStorage follows promises and timers started inside the scope. It does not follow
 * callbacks of event emitters created outside it, such as a request body's `data`/`end`: the
 * scope is therefore entered after the body is parsed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<string>();

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return scope.run(requestId, fn);
}

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore();
}
