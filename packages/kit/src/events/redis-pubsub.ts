/**
 * PubSub over Redis pub/sub (REDIS_URL), so an event published by one instance of a service
 * reaches subscribers connected to any instance (docs/subscriptions.md).
 *
 * One connection publishes and one subscribes, whatever the number of subscribers: each topic is
 * SUBSCRIBEd once while it has local listeners and UNSUBSCRIBEd when the last one leaves, so Redis
 * holds one subscription per (instance, topic), not per client. Pub/sub is fire-and-forget: an
 * instance that is down misses what was published meanwhile, which is what live updates want
 * (state that must not be lost travels on the event bus instead).
 *
 * The same goes for publishing while Redis is unreachable: the publishing connection keeps no
 * offline queue, so a publish then fails at once instead of waiting, behind the client's
 * reconnection attempts, for seconds (docs/delivery.md). Only the very first connection is waited
 * for, so that a publish right after start is not refused. The subscribing connection keeps its
 * queue: its SUBSCRIBEs are replayed when Redis is back (ioredis resubscribes on reconnect).
 */
import type { Redis } from 'ioredis';
import { redisClass } from '../core/lazy-modules.ts';
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
  const publisher = new (redisClass())(url, { lazyConnect: false, enableOfflineQueue: false });
  const subscriber = new (redisClass())(url, { lazyConnect: false });
  // ioredis emits an error on every failed reconnection attempt; one report per outage is enough.
  const reportOncePerOutage = (connection: Redis, name: string) => {
    let down = false;
    connection.on('ready', () => (down = false));
    connection.on('error', (e) => {
      if (down) return;
      down = true;
      onError(e, name);
    });
  };
  reportOncePerOutage(publisher, 'redis publisher');
  reportOncePerOutage(subscriber, 'redis subscriber');
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

  /**
   * Settles when the publisher's first connection attempt has: until then a command would be
   * refused (there is no offline queue), though Redis may well be there. Reconnections after an
   * outage are not waited for.
   */
  const firstAttempt = new Promise<void>((resolve) => {
    const settle = () => {
      publisher.off('ready', settle);
      publisher.off('close', settle);
      resolve();
    };
    publisher.on('ready', settle);
    publisher.on('close', settle);
  });

  return {
    async publish(topic, payload) {
      const message = JSON.stringify(payload);
      await firstAttempt;
      await publisher.publish(prefix + topic, message);
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
      // QUIT needs a live connection; while Redis is away, stop reconnecting instead.
      const end = async (connection: Redis) => {
        if (connection.status === 'ready') await connection.quit();
        else connection.disconnect();
      };
      await Promise.allSettled([end(publisher), end(subscriber)]);
    },
  };
}
