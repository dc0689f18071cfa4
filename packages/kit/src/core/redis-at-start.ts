/**
 * waitForRedis(url): a process configured with REDIS_URL waits for Redis at start, for a bounded
 * time, before it builds anything on it. Without this, a Redis that refuses connections made the
 * start hang (a consumer group that is never created) or go on with every client logging each
 * failed reconnect; now it is one StartupError naming where Redis was expected and why it did not
 * answer, which runProcess logs as the one fatal line. The wait covers Redis starting beside the
 * service (compose, a pod restart).
 */
import { redisClass } from './lazy-modules.ts';
import { errorReason } from './error-reason.ts';
import { endpointOf, StartupError } from './startup-error.ts';

export const REDIS_START_WAIT_MS = 10_000;

export async function waitForRedis(url: string, timeoutMs = REDIS_START_WAIT_MS): Promise<void> {
  let lastError = 'no answer';
  const client = new (redisClass())(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectionName: 'start',
    retryStrategy: () => 250,
  });
  client.on('error', (err) => {
    lastError = errorReason(err);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        client.once('ready', () => resolve());
        client.connect().catch(() => {
          // Retried by the strategy above until the deadline; the error event keeps the reason.
        });
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StartupError(`Redis at ${endpointOf(url)} did not answer within ${timeoutMs / 1000} s: ${lastError}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
