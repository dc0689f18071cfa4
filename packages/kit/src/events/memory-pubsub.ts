/** The in-process PubSub: enough when every instance lives in one process (the embedded default). */
import type { PubSub, PubSubIterator } from './pubsub.ts';
import { createPushIterator } from './push-iterator.ts';

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
 * In memory, a listener is live as soon as it is registered, hence `ready` resolves at once.
 */
export function listenerIterator<T>(
  register: (listener: Listener) => () => void,
  ready: Promise<void> = Promise.resolve(),
): PubSubIterator<T> {
  let unregister: () => void = () => {};
  const channel = createPushIterator<T>(() => unregister());
  unregister = register((payload) => channel.push(payload as T));
  // A failed subscription must not surface as an unhandled rejection when nobody awaits `ready`.
  ready.catch(() => {});
  return Object.assign(channel.iterator, { ready });
}
