/**
 * The `redis` readiness check (docs/readiness.md): PING on a connection of its own, so a probe
 * never queues behind the commands of the pub/sub, the bus or the rate limits, and their
 * connections' state does not decide the answer. Like the fail-fast connections
 * (fail-fast-redis.ts) it does not wait out a reconnect: while Redis is unreachable the check
 * answers at once with the connection's last error (`connect ECONNREFUSED 127.0.0.1:6390`).
 */
import type { Redis } from 'ioredis';
import { redisClass } from './lazy-modules.ts';
import { errorReason } from './error-reason.ts';
import type { ReadinessCheck } from './readiness.ts';

export function redisCheck(url: string, { name = 'redis', timeoutMs }: { name?: string; timeoutMs?: number } = {}): ReadinessCheck {
  let client: Redis | undefined;
  let lastError: string | undefined;
  const connect = () => {
    // Opened on the first probe: a process nobody probes holds no extra connection.
    const c = new (redisClass())(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectionName: 'readiness', ...(timeoutMs ? { commandTimeout: timeoutMs } : {}) });
    c.on('error', (err) => {
      lastError = errorReason(err);
    });
    c.on('ready', () => {
      lastError = undefined;
    });
    return c;
  };
  return {
    name,
    ...(timeoutMs ? { timeoutMs } : {}),
    async run() {
      client ??= connect();
      // Between reconnect attempts a PING would wait for the next one; the last error is the answer.
      if (client.status === 'reconnecting' && lastError) throw new Error(lastError);
      try {
        await client.ping();
      } catch (err) {
        throw new Error(lastError ?? errorReason(err));
      }
    },
    async close() {
      // Not QUIT: with Redis gone it would wait for an answer that never comes.
      client?.disconnect();
    },
  };
}
