/**
 * The request a piece of code is working for, wherever it is called from: the router and the
 * subgraph server run each GraphQL request inside its scope, and the logger (logger.ts) adds the
 * id to every line written meanwhile, so a line logged deep in a domain function (or by a library
 * handed our logger) still says which request it belongs to.
 *
 * AsyncLocalStorage follows promises and timers started inside the scope. It does not follow
 * callbacks of event emitters created outside it, such as a request body's `data`/`end`: the
 * scope is therefore entered after the body is parsed.
 *
 * One AsyncLocalStorage for everything a server keeps per request: each one in use costs every
 * promise of the process a hook's work and a property (docs/performance.md, "The request's one
 * scope"), so a server that follows more of a request than its id (the router's observation of
 * it) makes that its scope's value, with the id in it, rather than opening a second scope.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a request's scope holds: at least the request's id. */
export interface RequestScope {
  readonly requestId: string;
}

const scope = new AsyncLocalStorage<RequestScope>();

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return runInRequestScope({ requestId }, fn);
}

/** Runs `fn` with `store` as its request's scope: a server's own per-request record, with the request's id. */
export function runInRequestScope<T>(store: RequestScope, fn: () => T): T {
  return scope.run(store, fn);
}

/** The scope of the request being served here, if any: what `runInRequestScope` was given, or just the id. */
export function currentRequestScope(): RequestScope | undefined {
  return scope.getStore();
}

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}
