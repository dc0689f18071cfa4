/**
 * Pub/sub for GraphQL subscriptions (ARCHITECTURE.md section 6): a subgraph publishes to a topic,
 * every subscriber of that topic on every instance receives it. In memory on the embedded default;
 * Redis pub/sub when REDIS_URL is set (see redis-pubsub.ts).
 */
export interface PubSub {
  publish(topic: string, payload: unknown): Promise<void>;
  /** An async iterator of the topic's messages; calling `return()` unsubscribes. */
  subscribe<T = unknown>(topic: string): AsyncIterableIterator<T>;
  close(): Promise<void>;
}
