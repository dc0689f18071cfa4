/** The EventBus a process runs with: Redis Streams when a URL is configured, in process otherwise. */
import type { Logger } from '../core/logger.ts';
import type { EventBus } from './event-bus.ts';
import { createMemoryEventBus } from './memory-bus.ts';
import { createRedisEventBus } from './redis-bus.ts';

export interface EventBusOptions {
  redisUrl?: string | undefined;
  /** Stream-name prefix for Redis (see RedisEventBusOptions.prefix). */
  prefix?: string | undefined;
  logger?: Logger;
}

export function createEventBus({ redisUrl, prefix, logger }: EventBusOptions = {}): EventBus {
  if (!redisUrl) {
    return createMemoryEventBus({
      onError: (err, context) => logger?.warn({ err, ...context }, 'event handler failed; will retry'),
    });
  }
  return createRedisEventBus(redisUrl, {
    ...(prefix ? { prefix } : {}),
    onError: (err, context) => logger?.warn({ err, context }, 'event bus error'),
  });
}
