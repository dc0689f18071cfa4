/** The PubSub a service runs with: Redis when a URL is configured, in memory otherwise. */
import { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import { createMemoryPubSub } from './memory-pubsub.ts';
import type { PubSub } from './pubsub.ts';
import { createRedisPubSub } from './redis-pubsub.ts';

/** The variables a service that publishes or subscribes reads (spread into its config schema). */
export const pubsubEnv = {
  /** Redis for pub/sub across instances; without it, pub/sub stays inside the process. */
  REDIS_URL: z.url().optional(),
  /** Channel prefix, so deployments sharing one Redis do not hear each other. */
  REDIS_PUBSUB_PREFIX: z.string().optional(),
};

export interface PubSubOptions {
  redisUrl?: string | undefined;
  /** Channel prefix for Redis (see RedisPubSubOptions.prefix). */
  prefix?: string | undefined;
  logger?: Logger;
}

export function createPubSub({ redisUrl, prefix, logger }: PubSubOptions = {}): PubSub {
  if (!redisUrl) return createMemoryPubSub();
  return createRedisPubSub(redisUrl, {
    ...(prefix ? { prefix } : {}),
    onError: (err, context) => logger?.error({ err, context }, 'pub/sub error'),
  });
}
