/**
 * Turns a pub/sub iterator into what a subscription field yields: each message mapped (or dropped
 * when `map` returns undefined: an event this subscriber may not see). Closing the result closes the
 * source, so a client that unsubscribes leaves no listener behind.
 */
export function filterMap<T, U>(source: AsyncIterator<T>, map: (message: T) => Promise<U | undefined>): AsyncIterableIterator<U> {
  const close = async (): Promise<IteratorResult<U>> => {
    await source.return?.();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      for (;;) {
        const message = await source.next();
        if (message.done) return { value: undefined, done: true };
        const value = await map(message.value);
        if (value !== undefined) return { value, done: false };
      }
    },
    return: close,
    async throw(error) {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
