/**
 * The EventBus over Redis Streams with consumer groups (REDIS_URL): services run as separate
 * processes and instances (docs/payments.md, docs/delivery.md).
 *
 *   - One stream per event type, `<prefix><type>`, trimmed to about `maxLen` entries.
 *   - A consumer group per consuming service, created at id 0 so it also receives what was
 *     published before it first started. Every instance of the service is a consumer of that
 *     group with its own name; Redis hands each entry to one of them.
 *   - An entry is XACKed only after the handler returned. One that failed stays pending and is
 *     reclaimed (XAUTOCLAIM) once idle for `retryAfterMs`: by this instance or, if it died, by
 *     another one. That is the redelivery "when a handler throws" and after a crash.
 *   - Redis counts the deliveries of a pending entry (XAUTOCLAIM adds one each time). When the
 *     handler fails on delivery `maxDeliveries`, or an entry comes back more often than that
 *     without ever being acknowledged (its consumer dies while handling it), the entry is moved to
 *     the stream `<prefix>dead-letters` with its last error and acknowledged, in one script, so it
 *     stops being retried. Delivery is therefore at least once until a group gives up on an event.
 *   - A replay re-delivers a dead letter to its own group only, through the stream
 *     `<prefix>retry:<group>:<type>`: the group's consumers of that type read it beside the type's
 *     stream (in the same group), and nobody else does. Other groups handled the event already.
 *   - A stopped service's group keeps its place in the stream: it resumes where it left off.
 *   - When Redis loses its data (restarted without persistence, FLUSHALL, a deleted stream), the
 *     group and streams are gone and every read fails with NOGROUP. The consumer recreates them
 *     (at id 0, so it takes whatever was published since) when it meets NOGROUP and after every
 *     reconnection, reports that once, and goes on: no restart is needed. What was in Redis is
 *     lost with it; the outbox is the durable copy.
 * Consumers must be idempotent (see processed-events.ts): a crash between handling and XACK
 * delivers the entry again, and so does a replay.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisClass } from '../core/lazy-modules.ts';
import { failureMessage, type DeadLetter, type DomainEvent, type EventBus } from './event-bus.ts';

/** The stream prefix when REDIS_EVENTS_PREFIX is not set. */
export const DEFAULT_EVENTS_PREFIX = 'campus:events:';

export interface RedisEventBusOptions {
  /** Prepended to each stream name. Distinct prefixes keep deployments and test runs apart. */
  prefix?: string;
  /** Approximate length each stream (dead letters included) is trimmed to (XADD MAXLEN ~). */
  maxLen?: number;
  /** How long a consumer blocks waiting for new entries before looking for retries again. */
  blockMs?: number;
  /** How long a failed or orphaned entry stays pending before it is handed out again. */
  retryAfterMs?: number;
  /** Deliveries after which a failing event becomes a dead letter (default 10). */
  maxDeliveries?: number;
  onError?: (error: unknown, context: string) => void;
  /** Told when the bus repaired itself: streams and groups recreated after Redis lost them. */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
  /** Told about every event given up on (for a log line or a metric). */
  onDeadLetter?: (deadLetter: DeadLetter) => void;
}

type StreamEntry = [id: string, fields: string[]];
type ReadReply = [stream: string, entries: StreamEntry[]][] | null;
type ClaimReply = [next: string, entries: (StreamEntry | null)[], deleted?: string[]];
type PendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

const FIELD = 'event';
/** At most this many entries are read to count a lag Redis cannot tell (see streamLag). */
const LAG_SCAN_LIMIT = 10_000;
const STREAM_ID = /^\d+-\d+$/;

/**
 * Acknowledges the entry and, only if it was still pending (no other consumer settled it
 * meanwhile), records it as a dead letter: both or neither, and never twice.
 * KEYS: source stream, dead letters. ARGV: group, entry id, delete the entry ("1" on retry
 * streams, which only this group reads), maxLen, then the dead letter's field/value pairs.
 */
const DEAD_LETTER_SCRIPT = `
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return false end
if ARGV[3] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
`;

/**
 * Moves one dead letter to its group's retry stream, only if it is still there: two replays of the
 * same dead letter deliver it once. KEYS: dead letters, retry stream. ARGV: id, event JSON, maxLen.
 */
const REPLAY_SCRIPT = `
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[2], 'replayOf', ARGV[1])
return 1
`;

/** NOGROUP: the group (or its stream) does not exist. UNBLOCKED: the stream was deleted under a blocked read. */
const lostGroup = (e: unknown) => /^(NOGROUP|UNBLOCKED)/.test(String((e as Error)?.message ?? ''));

export function createRedisEventBus(url: string, options: RedisEventBusOptions = {}): EventBus {
  const prefix = options.prefix ?? DEFAULT_EVENTS_PREFIX;
  const maxLen = options.maxLen ?? 100_000;
  const blockMs = options.blockMs ?? 1_000;
  const retryAfterMs = options.retryAfterMs ?? 2_000;
  const maxDeliveries = options.maxDeliveries ?? 10;
  const onError = options.onError ?? (() => {});
  const onWarning = options.onWarning ?? (() => {});
  // Publishing, acknowledging and reclaiming share one connection; each consumer gets its own
  // for XREADGROUP BLOCK, which would otherwise hold every other command up.
  const commands = new (redisClass())(url);
  commands.on('error', (e) => onError(e, 'redis commands connection'));
  const stops = new Set<() => Promise<void>>();
  /** The streams each group consumes here, kept after it stops: its lag is read from them. */
  const groupStreams = new Map<string, Set<string>>();
  let closed = false;

  const streamOf = (type: string) => prefix + type;
  const retryStreamOf = (group: string, type: string) => `${prefix}retry:${group}:${type}`;
  const deadLetterStream = `${prefix}dead-letters`;

  /** Creates the group (and the stream) unless it exists; true when it had to be created. */
  async function ensureGroup(stream: string, group: string): Promise<boolean> {
    try {
      await commands.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      return true;
    } catch (e) {
      if (!String((e as Error).message).startsWith('BUSYGROUP')) throw e;
      return false;
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

  const fieldsOf = (fields: string[]) => {
    const map: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]!] = fields[i + 1]!;
    return map;
  };

  /** A dead-letters entry as a DeadLetter; undefined (and reported) when it cannot be read. */
  const toDeadLetter = ([id, fields]: StreamEntry): DeadLetter | undefined => {
    const f = fieldsOf(fields);
    try {
      return {
        id,
        event: JSON.parse(f.event ?? '') as DomainEvent,
        group: f.group ?? '',
        error: f.error ?? '',
        deliveries: Number(f.deliveries ?? 0),
        deadAt: f.deadAt ?? '',
      };
    } catch (e) {
      onError(e, `unreadable dead letter ${id} on ${deadLetterStream}`);
      return undefined;
    }
  };

  /** Dead-letters entries in stream order from `start`, page by page, until `visit` says stop. */
  async function scanDeadLetters(direction: 'forward' | 'backward', visit: (d: DeadLetter) => boolean): Promise<void> {
    const page = 200;
    let bound = direction === 'forward' ? '-' : '+';
    for (;;) {
      const entries = (direction === 'forward'
        ? await commands.xrange(deadLetterStream, bound, '+', 'COUNT', page)
        : await commands.xrevrange(deadLetterStream, bound, '-', 'COUNT', page)) as StreamEntry[];
      for (const entry of entries) {
        const letter = toDeadLetter(entry);
        if (letter && !visit(letter)) return;
      }
      if (entries.length < page) return;
      bound = `(${entries[entries.length - 1]![0]}`;
    }
  }

  /**
   * Entries of `stream` the group has not handled: `lag` (not yet delivered to any consumer of
   * the group) plus `pending` (delivered, not acknowledged), from XINFO GROUPS. Redis answers a
   * null lag when it cannot tell (entries deleted past the group's position); the entries after
   * that position are then counted, up to LAG_SCAN_LIMIT. A stream or group that does not exist
   * (yet, or after Redis lost its data) is behind by nothing.
   */
  async function streamLag(stream: string, group: string): Promise<number> {
    let groups: unknown[][];
    try {
      groups = (await commands.xinfo('GROUPS', stream)) as unknown[][];
    } catch (e) {
      if (/no such key/i.test(String((e as Error).message))) return 0;
      throw e;
    }
    const info = groups.map((row) => fieldsOf(row.map(String)) as Record<string, string>).find((g) => g.name === group);
    if (!info) return 0;
    const pending = Number(info.pending ?? 0);
    if (info.lag !== undefined && info.lag !== '' && info.lag !== 'null') return pending + Number(info.lag);
    const after = (await commands.xrange(stream, `(${info['last-delivered-id'] ?? '0-0'}`, '+', 'COUNT', LAG_SCAN_LIMIT)) as StreamEntry[];
    return pending + after.length;
  }

  return {
    async publish(event) {
      if (closed) throw new Error('The event bus is closed.');
      await commands.xadd(streamOf(event.type), 'MAXLEN', '~', String(maxLen), '*', FIELD, JSON.stringify(event));
    },

    async consume(group, types, handler) {
      if (closed) throw new Error('The event bus is closed.');
      const wanted = [...new Set(types)];
      const retryStreams = new Set(wanted.map((t) => retryStreamOf(group, t)));
      const streams = [...wanted.map(streamOf), ...retryStreams];
      for (const stream of streams) await ensureGroup(stream, group);
      const known = groupStreams.get(group) ?? new Set<string>();
      for (const stream of streams) known.add(stream);
      groupStreams.set(group, known);
      const consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const reader = new (redisClass())(url);
      let running = true;
      // Every connection after the first may be to a Redis that lost its data: check the groups.
      let connections = 0;
      let recheckGroups = false;
      reader.on('ready', () => {
        connections += 1;
        if (connections > 1) recheckGroups = true;
      });
      reader.on('error', (e) => {
        if (running) onError(e, `redis reader of ${group}`);
      });
      let wakeUp: (() => void) | undefined;
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });

      /** Recreates whatever streams and groups are missing; reports once per repair. */
      const heal = async (reason: string): Promise<boolean> => {
        const created: string[] = [];
        for (const stream of streams) if (await ensureGroup(stream, group)) created.push(stream);
        if (created.length > 0) {
          onWarning('event streams or consumer group were missing (Redis lost its data?); recreated them', {
            group,
            consumer,
            streams: created,
            reason,
          });
        }
        return created.length > 0;
      };

      const acknowledge = async (stream: string, id: string) => {
        // Only this group reads a retry stream: once handled, the entry has no reader left.
        if (retryStreams.has(stream)) await commands.multi().xack(stream, group, id).xdel(stream, id).exec();
        else await commands.xack(stream, group, id);
      };

      const deadLetter = async (stream: string, id: string, event: DomainEvent, error: string, deliveries: number) => {
        const deadAt = new Date().toISOString();
        const letterId = (await commands.eval(
          DEAD_LETTER_SCRIPT, 2, stream, deadLetterStream,
          group, id, retryStreams.has(stream) ? '1' : '0', String(maxLen),
          'event', JSON.stringify(event), 'stream', stream, 'type', event.type, 'group', group,
          'error', error, 'deliveries', String(deliveries), 'deadAt', deadAt,
        )) as string | null;
        // Null: another consumer settled the entry meanwhile (it took longer than retryAfterMs).
        if (letterId) options.onDeadLetter?.({ id: letterId, event, group, error, deliveries, deadAt });
      };

      /** `deliveries`: Redis's count for this entry, this delivery included. */
      const handle = async (stream: string, [id, fields]: StreamEntry, deliveries: number) => {
        const raw = fields[fields.indexOf(FIELD) + 1];
        let event: DomainEvent | undefined;
        try {
          event = JSON.parse(raw ?? '') as DomainEvent;
        } catch (e) {
          // Unreadable forever: acknowledge it rather than retry it forever.
          onError(e, `unreadable entry ${id} on ${stream}; dropped`);
        }
        if (event && deliveries > maxDeliveries) {
          // Handed out more often than allowed and never settled: its consumer keeps dying on it
          // (a handler that crashes the process never gets to fail). Not handed out again.
          const handed = deliveries - 1;
          await deadLetter(stream, id, event, `not acknowledged after ${handed} deliveries (the consumer stopped or crashed while handling it)`, handed);
          return;
        }
        if (event) {
          try {
            await handler(event);
          } catch (e) {
            if (deliveries >= maxDeliveries) {
              await deadLetter(stream, id, event, failureMessage(e), deliveries);
            } else {
              onError(e, `handler of ${group} failed on ${event.type} ${event.id} (delivery ${deliveries} of ${maxDeliveries}); it will be retried`);
            }
            return;
          }
        }
        await acknowledge(stream, id);
      };

      const deliveriesOf = async (stream: string, id: string): Promise<number | undefined> => {
        const [row] = (await commands.xpending(stream, group, id, id, 1)) as PendingRow[];
        return row ? Number(row[3]) : undefined;
      };

      const reclaim = async () => {
        for (const stream of streams) {
          const [, entries, deleted] = (await commands.xautoclaim(stream, group, consumer, retryAfterMs, '0-0', 'COUNT', 50)) as ClaimReply;
          // Entries trimmed from the stream while pending: nothing left to deliver.
          if (deleted?.length) await commands.xack(stream, group, ...deleted);
          for (const entry of entries) {
            if (!running) return;
            if (!entry) continue;
            const deliveries = await deliveriesOf(stream, entry[0]);
            // Undefined: settled by another consumer between the claim and now.
            if (deliveries !== undefined) await handle(stream, entry, deliveries);
          }
        }
      };

      const loop = async () => {
        let lastReclaim = 0;
        while (running) {
          try {
            if (recheckGroups) {
              recheckGroups = false;
              await heal('reconnected to Redis');
            }
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
              for (const entry of entries) if (running) await handle(stream, entry, 1);
            }
          } catch (e) {
            if (!running) break;
            if (lostGroup(e)) {
              try {
                // Straight back to reading when something was recreated; a pause otherwise, so
                // that an instance racing another one's repair does not spin.
                if (await heal(failureMessage(e))) continue;
              } catch (healError) {
                onError(healError, `recreating the streams of ${group}`);
              }
            } else {
              onError(e, `consumer ${group} loop`);
            }
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

    async deadLetters({ limit = 100, group } = {}) {
      const found: DeadLetter[] = [];
      if (limit <= 0) return found;
      await scanDeadLetters('backward', (letter) => {
        if (group === undefined || letter.group === group) found.push(letter);
        return found.length < limit;
      });
      return found;
    },

    async replayDeadLetters({ ids, group } = {}) {
      if (closed) throw new Error('The event bus is closed.');
      const chosen: DeadLetter[] = [];
      const matches = (letter: DeadLetter) => group === undefined || letter.group === group;
      if (ids) {
        for (const id of ids) {
          if (!STREAM_ID.test(id)) throw new Error(`"${id}" is not a dead letter id (they look like 1700000000000-0).`);
          const [entry] = (await commands.xrange(deadLetterStream, id, id)) as StreamEntry[];
          const letter = entry && toDeadLetter(entry);
          if (letter && matches(letter)) chosen.push(letter);
        }
      } else {
        // Oldest first, so a group gets its replayed events in the order they had failed.
        await scanDeadLetters('forward', (letter) => {
          if (matches(letter)) chosen.push(letter);
          return true;
        });
      }
      let replayed = 0;
      for (const letter of chosen) {
        const moved = await commands.eval(
          REPLAY_SCRIPT, 2, deadLetterStream, retryStreamOf(letter.group, letter.event.type),
          letter.id, JSON.stringify(letter.event), String(maxLen),
        );
        if (Number(moved) === 1) replayed += 1;
      }
      return replayed;
    },

    async deadLetterCount() {
      return commands.xlen(deadLetterStream);
    },

    async consumerLag(group) {
      let total = 0;
      for (const stream of groupStreams.get(group) ?? []) total += await streamLag(stream, group);
      return total;
    },

    async close() {
      closed = true;
      await Promise.all([...stops].map((stop) => stop()));
      await commands.quit().catch(() => undefined);
    },
  };
}
