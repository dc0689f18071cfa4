/**
 * PubSub over Redis pub/sub (REDIS_URL), so an event published by one instance of a service
 * reaches subscribers connected to any instance (docs/subscriptions.md).
 *
 * One connection publishes and one subscribes, whatever the number of subscribers: each topic is
 * SUBSCRIBEd once while it has local listeners and UNSUBSCRIBEd when the last one leaves, so Redis
 * holds one subscription per (instance, topic), not per client. Pub/sub is fire-and-forget: an
 * instance that is down misses what was published meanwhile, which is what live updates want
 * (state that must not be lost travels on the event bus instead).
 */
import { Redis } from 'ioredis';
import { listenerIterator } from './memory-pubsub.ts';
import type { PubSub } from './pubsub.ts';

type Listener = (payload: unknown) => void;

export interface RedisPubSubOptions {
  /**
   * Prepended to every topic to name the Redis channel. Distinct prefixes keep deployments (and
   * parallel test runs) that share one Redis from hearing each other.
   */
  prefix?: string;
  onError?: (error: unknown, context: string) => void;
}

interface Topic {
  listeners: Set<Listener>;
  /** Settles when Redis acknowledged the SUBSCRIBE for this topic. */
  subscribed: Promise<void>;
}

export function createRedisPubSub(url: string, options: RedisPubSubOptions = {}): PubSub {
  const prefix = options.prefix ?? 'campus:pubsub:';
  const onError = options.onError ?? (() => {});
  // Without maxRetriesPerRequest: null a Redis outage would fail publishes after 20 retries;
  // live updates prefer a bounded failure, so the defaults stay and errors are reported.
  const publisher = new Redis(url, { lazyConnect: false });
  const subscriber = new Redis(url, { lazyConnect: false });
  publisher.on('error', (e) => onError(e, 'redis publisher'));
  subscriber.on('error', (e) => onError(e, 'redis subscriber'));
  const topics = new Map<string, Topic>();

  subscriber.on('message', (channel: string, message: string) => {
    const topic = topics.get(channel.slice(prefix.length));
    if (!topic) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch (e) {
      onError(e, `malformed message on ${channel}`);
      return;
    }
    for (const listener of topic.listeners) listener(payload);
  });

  return {
    async publish(topic, payload) {
      await publisher.publish(prefix + topic, JSON.stringify(payload));
    },
    subscribe<T>(name: string) {
      let topic = topics.get(name);
      if (!topic) {
        // Commands on one connection run in order, so a SUBSCRIBE issued after a pending
        // UNSUBSCRIBE of the same channel takes effect after it.
        const subscribed = subscriber.subscribe(prefix + name).then(() => undefined);
        topic = { listeners: new Set(), subscribed };
        topics.set(name, topic);
      }
      const current = topic;
      return listenerIterator<T>((listener) => {
        current.listeners.add(listener);
        return () => {
          current.listeners.delete(listener);
          if (current.listeners.size === 0 && topics.get(name) === current) {
            topics.delete(name);
            subscriber.unsubscribe(prefix + name).catch((e) => onError(e, `unsubscribe ${name}`));
          }
        };
      }, current.subscribed);
    },
    async close() {
      topics.clear();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
