/** The in-process PubSub: enough when every instance lives in one process. */
import type { PubSub } from './pubsub.ts';

type Listener = (payload: unknown) => void;

export function createMemoryPubSub(): PubSub {
  const topics = new Map<string, Set<Listener>>();
  return {
    async publish(topic, payload) {
      for (const listener of topics.get(topic) ?? []) listener(payload);
    },
    subscribe<T>(topic: string) {
      return listenerIterator<T>((listener) => {
        const set = topics.get(topic) ?? new Set();
        set.add(listener);
        topics.set(topic, set);
        return () => {
          set.delete(listener);
          if (set.size === 0) topics.delete(topic);
        };
      });
    },
    async close() {
      topics.clear();
    },
  };
}

/**
 * Adapts a listener registration to an async iterator with a queue, so a slow consumer never
 * loses a message and `return()` (graphql-ws calls it on complete) always unsubscribes.
 */
export function listenerIterator<T>(register: (listener: Listener) => () => void): AsyncIterableIterator<T> {
  const queue: T[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let done = false;
  const unregister = register((payload) => {
    const next = waiting.shift();
    if (next) next({ value: payload as T, done: false });
    else queue.push(payload as T);
  });
  const finish = async (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      unregister();
      for (const w of waiting.splice(0)) w({ value: undefined, done: true });
      queue.length = 0;
    }
    return { value: undefined, done: true };
  };
  return {
    next: () => {
      if (done) return Promise.resolve({ value: undefined, done: true });
      if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return: finish,
    throw: async (e) => {
      await finish();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
