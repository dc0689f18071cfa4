/**
 * A Redis connection for lookups that guard a request (rate limits, replay checks): a command
 * fails at once while Redis is unreachable, instead of queueing behind a reconnect and holding the
 * request for as long, so the caller can fall back to its in-memory answer. An outage is logged
 * once when it starts and once when it ends, not at every failed reconnect.
 */
import type { Redis } from 'ioredis';
import { redisClass } from './lazy-modules.ts';
import type { Logger } from './logger.ts';

export interface FailFastRedisOptions {
  logger: Logger;
  /** Logged (warn) when Redis becomes unreachable: what the caller does meanwhile. */
  whileDown: string;
  /** Logged (info) when it is back. */
  whenBack: string;
  /** Past this a command fails and the caller answers from memory. */
  commandTimeoutMs?: number;
}

export function connectFailFastRedis(url: string, { logger, whileDown, whenBack, commandTimeoutMs = 500 }: FailFastRedisOptions): Redis {
  const client = new (redisClass())(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs });
  let healthy = true;
  client.on('ready', () => {
    if (!healthy) logger.info(whenBack);
    healthy = true;
  });
  client.on('error', (err) => {
    if (!healthy) return;
    healthy = false;
    logger.warn({ err: err.message }, whileDown);
  });
  return client;
}
