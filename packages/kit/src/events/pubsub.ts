/**
 * Pub/sub for GraphQL subscriptions (docs/subscriptions.md): a subgraph publishes to a topic,
 * every subscriber of that topic on every instance receives it. In memory on the embedded default;
 * Redis pub/sub when REDIS_URL is set (see redis-pubsub.ts and create-pubsub.ts).
 *
 * In a subscription resolver, prefer `subscribe: (_, args, ctx) => listen(ctx.pubsub, topic)`:
 * with Redis, SUBSCRIBE is acknowledged asynchronously, and a message published before that is
 * lost. `listen` resolves once the subscription is live, so by the time graphql-ws starts the
 * operation, anything published afterwards is delivered.
 */
export interface PubSubIterator<T> extends AsyncIterableIterator<T> {
  /** Resolves once every message published from now on will reach this iterator. */
  ready: Promise<void>;
}

export interface PubSub {
  /** Payloads must survive JSON (Redis carries them as JSON): no Dates, Maps or class instances. */
  publish(topic: string, payload: unknown): Promise<void>;
  /** An async iterator of the topic's messages; calling `return()` unsubscribes. */
  subscribe<T = unknown>(topic: string): PubSubIterator<T>;
  close(): Promise<void>;
}

/** Subscribes and waits until the subscription is live (see above). */
export async function listen<T = unknown>(pubsub: PubSub, topic: string): Promise<PubSubIterator<T>> {
  const iterator = pubsub.subscribe<T>(topic);
  try {
    await iterator.ready;
  } catch (e) {
    await iterator.return?.();
    throw e;
  }
  return iterator;
}

/** Publishes one message; never throws (see bestEffortPublisher). */
export type BestEffortPublish = (topic: string, payload: unknown, logFields?: Record<string, unknown>) => Promise<void>;

/**
 * Publishing for live updates, which happens after the change it announces has committed: a
 * failure is logged and swallowed, since failing the caller then would only mislead it, and a
 * client that missed an update re-queries on reconnect. What must not be lost travels on the event
 * bus through an outbox, not here.
 */
export function bestEffortPublisher(pubsub: PubSub, logger: { error(obj: object, msg: string): void }): BestEffortPublish {
  return async (topic, payload, logFields = {}) => {
    try {
      await pubsub.publish(topic, payload);
    } catch (err) {
      logger.error({ err, topic, ...logFields }, 'could not publish a live update');
    }
  };
}
