/**
 * The EventBus over Redis Streams with consumer groups (REDIS_URL): services run as separate
 * processes and instances (docs/payments.md).
 *
 *   - One stream per event type, `<prefix><type>`, trimmed to about `maxLen` entries.
 *   - A consumer group per consuming service, created at id 0 so it also receives what was
 *     published before it first started. Every instance of the service is a consumer of that
 *     group with its own name; Redis hands each entry to one of them.
 *   - An entry is XACKed only after the handler returned. One that failed stays pending and is
 *     reclaimed (XAUTOCLAIM) once idle for `retryAfterMs`: by this instance or, if it died, by
 *     another one. That is the redelivery "when a handler throws" and after a crash.
 *   - A stopped service's group keeps its place in the stream: it resumes where it left off.
 * Consumers must be idempotent (see processed-events.ts): a crash between handling and XACK
 * delivers the entry again.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { DomainEvent, EventBus } from './event-bus.ts';

export interface RedisEventBusOptions {
  /** Prepended to each stream name. Distinct prefixes keep deployments and test runs apart. */
  prefix?: string;
  /** Approximate length each stream is trimmed to (XADD MAXLEN ~). */
  maxLen?: number;
  /** How long a consumer blocks waiting for new entries before looking for retries again. */
  blockMs?: number;
  /** How long a failed or orphaned entry stays pending before it is handed out again. */
  retryAfterMs?: number;
  onError?: (error: unknown, context: string) => void;
}

type StreamEntry = [id: string, fields: string[]];
type ReadReply = [stream: string, entries: StreamEntry[]][] | null;
type ClaimReply = [next: string, entries: (StreamEntry | null)[], deleted?: string[]];

const FIELD = 'event';

export function createRedisEventBus(url: string, options: RedisEventBusOptions = {}): EventBus {
  const prefix = options.prefix ?? 'campus:events:';
  const maxLen = options.maxLen ?? 100_000;
  const blockMs = options.blockMs ?? 1_000;
  const retryAfterMs = options.retryAfterMs ?? 2_000;
  const onError = options.onError ?? (() => {});
  // Publishing, acknowledging and reclaiming share one connection; each consumer gets its own
  // for XREADGROUP BLOCK, which would otherwise hold every other command up.
  const commands = new Redis(url);
  commands.on('error', (e) => onError(e, 'redis commands connection'));
  const stops = new Set<() => Promise<void>>();
  let closed = false;

  const streamOf = (type: string) => prefix + type;

  async function ensureGroup(stream: string, group: string): Promise<void> {
    try {
      await commands.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (e) {
      if (!String((e as Error).message).startsWith('BUSYGROUP')) throw e;
    }
  }

  /**
   * Removes a stopped consumer's name from the group, but only where it holds nothing pending:
   * deleting a consumer discards its pending entries, which would lose their redelivery.
   */
  async function forgetConsumer(streams: string[], group: string, consumer: string): Promise<void> {
    for (const stream of streams) {
      const pending = (await commands.xpending(stream, group, '-', '+', 1, consumer)) as unknown[];
      if (pending.length === 0) await commands.xgroup('DELCONSUMER', stream, group, consumer);
    }
  }

  return {
    async publish(event) {
      if (closed) throw new Error('The event bus is closed.');
      await commands.xadd(streamOf(event.type), 'MAXLEN', '~', String(maxLen), '*', FIELD, JSON.stringify(event));
    },

    async consume(group, types, handler) {
      if (closed) throw new Error('The event bus is closed.');
      const streams = types.map(streamOf);
      for (const stream of streams) await ensureGroup(stream, group);
      const consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const reader = new Redis(url);
      reader.on('error', (e) => {
        if (running) onError(e, `redis reader of ${group}`);
      });
      let running = true;
      let wakeUp: (() => void) | undefined;
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });

      const handle = async (stream: string, [id, fields]: StreamEntry) => {
        const raw = fields[fields.indexOf(FIELD) + 1];
        let event: DomainEvent | undefined;
        try {
          event = JSON.parse(raw ?? '') as DomainEvent;
        } catch (e) {
          // Unreadable forever: acknowledge it rather than retry it forever.
          onError(e, `unreadable entry ${id} on ${stream}; dropped`);
        }
        if (event) {
          try {
            await handler(event);
          } catch (e) {
            onError(e, `handler of ${group} failed on ${event.type} ${event.id}; it will be retried`);
            return;
          }
        }
        await commands.xack(stream, group, id);
      };

      const reclaim = async () => {
        for (const stream of streams) {
          const [, entries, deleted] = (await commands.xautoclaim(stream, group, consumer, retryAfterMs, '0-0', 'COUNT', 50)) as ClaimReply;
          // Entries trimmed from the stream while pending: nothing left to deliver.
          if (deleted?.length) await commands.xack(stream, group, ...deleted);
          for (const entry of entries) {
            if (!running) return;
            if (entry) await handle(stream, entry);
          }
        }
      };

      const loop = async () => {
        let lastReclaim = 0;
        while (running) {
          try {
            if (Date.now() - lastReclaim >= retryAfterMs) {
              lastReclaim = Date.now();
              await reclaim();
            }
            const reply = (await reader.xreadgroup(
              'GROUP', group, consumer, 'COUNT', 20, 'BLOCK', Math.min(blockMs, retryAfterMs),
              'STREAMS', ...streams, ...streams.map(() => '>'),
            )) as ReadReply;
            for (const [stream, entries] of reply ?? []) {
              // Once stopping, entries read but not handled stay pending and are reclaimed later.
              for (const entry of entries) if (running) await handle(stream, entry);
            }
          } catch (e) {
            if (!running) break;
            onError(e, `consumer ${group} loop`);
            await pause(Math.min(retryAfterMs, 1_000));
          }
        }
      };
      const done = loop();

      const stop = async () => {
        if (!running) return;
        running = false;
        stops.delete(stop);
        wakeUp?.();
        // Breaks a pending XREADGROUP BLOCK; an entry being handled still finishes and is acked
        // on the commands connection. Entries read but not handled stay pending for a reclaim.
        reader.disconnect();
        await done;
        await forgetConsumer(streams, group, consumer).catch((e) => onError(e, `forgetting consumer ${consumer}`));
      };
      stops.add(stop);
      return stop;
    },

    async close() {
      closed = true;
      await Promise.all([...stops].map((stop) => stop()));
      await commands.quit().catch(() => undefined);
    },
  };
}
