/** The EventBus a process runs with: Redis Streams when a URL is configured, in process otherwise. */
import { z } from 'zod';
import { parseEnv, type Env } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { DeadLetter, EventBus } from './event-bus.ts';
import { createMemoryEventBus } from './memory-bus.ts';
import { createRedisEventBus } from './redis-bus.ts';

/** The variables of retries and dead letters (spread into a service's config schema; docs/delivery.md). */
export const eventBusEnv = {
  /** Deliveries after which an event whose handler keeps failing becomes a dead letter. */
  EVENTS_MAX_DELIVERIES: z.coerce.number().int().min(1).default(10),
  /**
   * How long a failed or orphaned entry stays pending before it is delivered again (Redis); in
   * process, the longest backoff between two deliveries.
   */
  EVENTS_RETRY_AFTER_MS: z.coerce.number().int().min(1).default(2_000),
};

export interface EventDeliveryConfig {
  maxDeliveries: number;
  retryAfterMs: number;
}

export function eventDeliveryConfig(e: { EVENTS_MAX_DELIVERIES: number; EVENTS_RETRY_AFTER_MS: number }): EventDeliveryConfig {
  return { maxDeliveries: e.EVENTS_MAX_DELIVERIES, retryAfterMs: e.EVENTS_RETRY_AFTER_MS };
}

/** The same from a process's environment (the embedded stack, which has no service config of its own). */
export function eventDeliveryConfigFromEnv(env: Env): EventDeliveryConfig {
  return eventDeliveryConfig(parseEnv(z.object(eventBusEnv), env));
}

export interface EventBusOptions {
  redisUrl?: string | undefined;
  /** Stream-name prefix for Redis (see RedisEventBusOptions.prefix). */
  prefix?: string | undefined;
  logger?: Logger;
  /** Deliveries after which a failing event becomes a dead letter (default 10). */
  maxDeliveries?: number | undefined;
  /** Redis: how long a failed or orphaned entry stays pending (default 2000); in process: the longest backoff. */
  retryAfterMs?: number | undefined;
}

/** The in-process bus's backoff: 50 ms, doubling, up to the longest wait. */
const backoffUpTo = (longestMs: number) => (attempt: number) => Math.min(50 * 2 ** (attempt - 1), longestMs);

export function createEventBus({ redisUrl, prefix, logger, maxDeliveries, retryAfterMs }: EventBusOptions = {}): EventBus {
  const onDeadLetter = ({ id, event, group, error, deliveries }: DeadLetter) =>
    logger?.error(
      { deadLetterId: id, eventId: event.id, type: event.type, group, error, deliveries },
      'event moved to dead letters: its handler kept failing (docs/delivery.md)',
    );
  if (!redisUrl) {
    return createMemoryEventBus({
      ...(maxDeliveries ? { maxDeliveries } : {}),
      retryDelayMs: backoffUpTo(retryAfterMs ?? 5_000),
      onError: (err, context) => logger?.warn({ err, ...context }, 'event handler failed; will retry'),
      onDeadLetter,
    });
  }
  return createRedisEventBus(redisUrl, {
    ...(prefix ? { prefix } : {}),
    ...(maxDeliveries ? { maxDeliveries } : {}),
    ...(retryAfterMs ? { retryAfterMs } : {}),
    onError: (err, context) => logger?.warn({ err, context }, 'event bus error'),
    onWarning: (message, details) => logger?.warn(details, message),
    onDeadLetter,
  });
}
