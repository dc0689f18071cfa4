/**
 * An async iterator fed by pushes: the bridge between callback sources (a pub/sub listener, a
 * graphql-ws sink) and the async iterators graphql-js and graphql-ws consume.
 *
 * Why not an async generator: a generator's `return()` waits until its pending `next()` settles,
 * so a client that unsubscribes while no event is coming would never be released (and neither
 * would the Redis channel or upstream socket behind it). Here `return()` ends at once, releases
 * the source (`onReturn`) and resolves every waiting `next()`.
 */
export interface PushIterator<T> {
  iterator: AsyncIterableIterator<T>;
  /** Delivers a value; dropped once the iterator has ended. */
  push(value: T): void;
  /** Ends the iterator after the values already queued; `error` makes the next read throw. */
  end(error?: unknown): void;
  readonly done: boolean;
  /** Values pushed and not read yet. */
  readonly size: number;
}

export function createPushIterator<T>(onReturn: () => void = () => {}): PushIterator<T> {
  const queue: T[] = [];
  const waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    onReturn();
  };
  const settleWaiting = () => {
    for (const w of waiting.splice(0)) {
      if (failure) w.reject(failure.error);
      else w.resolve({ value: undefined, done: true });
      failure = undefined;
    }
  };

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
      if (ended) {
        if (failure) {
          const { error } = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    async return() {
      ended = true;
      failure = undefined;
      queue.length = 0;
      release();
      settleWaiting();
      return { value: undefined, done: true };
    },
    async throw(e) {
      await iterator.return!();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  return {
    iterator,
    push(value) {
      if (ended) return;
      const next = waiting.shift();
      if (next) next.resolve({ value, done: false });
      else queue.push(value);
    },
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) failure = { error };
      release();
      if (!queue.length) settleWaiting();
    },
    get done() {
      return ended && queue.length === 0;
    },
    get size() {
      return queue.length;
    },
  };
}
