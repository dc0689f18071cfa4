/**
 * The in-process EventBus: the embedded default, where every service runs in one process.
 *
 * It keeps the promises the Redis Streams bus keeps, so code tested on one behaves on the other:
 *   - Every consumer group gets every event of its types; the instances of a group share the work.
 *   - A group that exists but is not consuming right now (its service is stopped) keeps its events
 *     queued and receives them when it consumes again: nothing published meanwhile is lost.
 *   - A group created later starts from the events still retained (like a Redis group created at
 *     id 0), so start order between producer and consumer does not matter.
 *   - A handler that throws gets the event again after a backoff; other events keep flowing.
 *   - After `maxDeliveries` failed deliveries the event leaves the group's queue for the dead
 *     letters (an in-process list), with its last error; `replayDeadLetters` puts it back in that
 *     group's queue only. So delivery is at least once until a group gives up on an event, and
 *     again once it is replayed (docs/delivery.md).
 *   - Events cross the bus as JSON, as they would through Redis (a Date arrives as a string).
 * It lives in memory: a process that exits loses whatever was not yet handled, dead letters
 * included. The outbox is the durable copy (the relay republishes what it had not marked
 * published), and Redis is the bus when services run as separate processes.
 */
import { failureMessage, type DeadLetter, type DomainEvent, type EventBus, type EventHandler } from './event-bus.ts';

export interface MemoryEventBusOptions {
  /** Delay before a failed event is offered again, by attempt number (1, 2, ...). */
  retryDelayMs?: (attempt: number) => number;
  /** How many recent events a group created later can still receive. */
  retain?: number;
  /** Failed deliveries after which an event becomes a dead letter (default 10). */
  maxDeliveries?: number;
  onError?: (error: unknown, context: { group: string; eventId: string; attempt: number }) => void;
  /** Told about every event given up on (for a log line or a metric). */
  onDeadLetter?: (deadLetter: DeadLetter) => void;
}

interface Entry {
  event: DomainEvent;
  attempts: number;
  readyAt: number;
  inFlight: boolean;
}

interface Consumer {
  types: Set<string>;
  handler: EventHandler;
  running: boolean;
  done: Promise<void>;
}

interface Group {
  types: Set<string>;
  queue: Entry[];
  consumers: Set<Consumer>;
  /** Consumers parked until something changes (a publish, a retry coming due, a stop). */
  waiters: Set<() => void>;
}

const defaultRetryDelay = (attempt: number) => Math.min(50 * 2 ** (attempt - 1), 5_000);

export function createMemoryEventBus(options: MemoryEventBusOptions = {}): EventBus {
  const retryDelay = options.retryDelayMs ?? defaultRetryDelay;
  const retain = options.retain ?? 10_000;
  const maxDeliveries = options.maxDeliveries ?? 10;
  const log: DomainEvent[] = [];
  /** Oldest first; ids shaped like Redis stream ids (time-sequence), so they sort and read alike. */
  const dead: DeadLetter[] = [];
  let deadSeq = 0;
  const groups = new Map<string, Group>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const wake = (group: Group) => {
    for (const w of group.waiters) w();
    group.waiters.clear();
  };

  const enqueue = (group: Group, event: DomainEvent) => {
    group.queue.push({ event, attempts: 0, readyAt: 0, inFlight: false });
  };

  const groupFor = (name: string): Group => {
    let group = groups.get(name);
    if (!group) {
      group = { types: new Set(), queue: [], consumers: new Set(), waiters: new Set() };
      groups.set(name, group);
    }
    return group;
  };

  /** Takes the oldest event this consumer handles that is due; undefined when there is none. */
  const take = (group: Group, consumer: Consumer): Entry | undefined => {
    const now = Date.now();
    const entry = group.queue.find((e) => !e.inFlight && e.readyAt <= now && consumer.types.has(e.event.type));
    if (entry) entry.inFlight = true;
    return entry;
  };

  /**
   * Waits for a wake-up, or until the earliest event waiting for a retry comes due. The retry timer
   * alone is not enough: it may fire while this consumer is busy with another event, and a wake-up
   * with nobody parked is lost.
   */
  const parkUntilDue = (group: Group, consumer: Consumer) =>
    new Promise<void>((resolve) => {
      const retrying = group.queue.filter((e) => !e.inFlight && consumer.types.has(e.event.type));
      const nextDue = Math.min(...retrying.map((e) => e.readyAt));
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) {
          clearTimeout(timer);
          timers.delete(timer);
        }
        group.waiters.delete(done);
        resolve();
      };
      group.waiters.add(done);
      if (Number.isFinite(nextDue)) {
        timer = setTimeout(done, Math.max(0, nextDue - Date.now()));
        timers.add(timer);
      }
    });

  async function run(name: string, group: Group, consumer: Consumer): Promise<void> {
    while (consumer.running) {
      const entry = take(group, consumer);
      if (!entry) {
        await parkUntilDue(group, consumer);
        continue;
      }
      try {
        await consumer.handler(entry.event);
        group.queue.splice(group.queue.indexOf(entry), 1);
      } catch (error) {
        entry.attempts += 1;
        if (entry.attempts >= maxDeliveries) {
          group.queue.splice(group.queue.indexOf(entry), 1);
          const letter: DeadLetter = {
            id: `${Date.now()}-${deadSeq++}`,
            event: entry.event,
            group: name,
            error: failureMessage(error),
            deliveries: entry.attempts,
            deadAt: new Date().toISOString(),
          };
          dead.push(letter);
          options.onDeadLetter?.(letter);
          continue;
        }
        entry.inFlight = false;
        entry.readyAt = Date.now() + retryDelay(entry.attempts);
        options.onError?.(error, { group: name, eventId: entry.event.id, attempt: entry.attempts });
        const timer = setTimeout(() => {
          timers.delete(timer);
          wake(group);
        }, retryDelay(entry.attempts));
        timers.add(timer);
      }
    }
  }

  return {
    async publish(event) {
      if (closed) throw new Error('The event bus is closed.');
      // Through JSON, as on Redis: consumers never share (or mutate) the producer's objects.
      const copy = JSON.parse(JSON.stringify(event)) as DomainEvent;
      log.push(copy);
      if (log.length > retain) log.splice(0, log.length - retain);
      for (const group of groups.values()) {
        if (!group.types.has(copy.type)) continue;
        enqueue(group, copy);
        wake(group);
      }
    },

    async consume(name, types, handler) {
      if (closed) throw new Error('The event bus is closed.');
      const group = groupFor(name);
      const added = types.filter((t) => !group.types.has(t));
      for (const t of added) group.types.add(t);
      // Types this group had not asked for before: catch up on what is retained of them.
      const queued = new Set(group.queue.map((e) => e.event.id));
      for (const event of log) {
        if (added.includes(event.type) && !queued.has(event.id)) enqueue(group, event);
      }
      const consumer: Consumer = { types: new Set(types), handler, running: true, done: Promise.resolve() };
      group.consumers.add(consumer);
      consumer.done = run(name, group, consumer);
      return async () => {
        if (!consumer.running) return;
        consumer.running = false;
        wake(group);
        // Lets an event in flight finish (and be acknowledged or retried) before returning.
        await consumer.done;
        group.consumers.delete(consumer);
      };
    },

    async deadLetters({ limit = 100, group } = {}) {
      const matching = dead.filter((d) => group === undefined || d.group === group);
      return matching.slice(Math.max(0, matching.length - limit)).reverse();
    },

    async replayDeadLetters({ ids, group } = {}) {
      if (closed) throw new Error('The event bus is closed.');
      const wanted = ids ? new Set(ids) : undefined;
      const chosen = dead.filter((d) => (!wanted || wanted.has(d.id)) && (group === undefined || d.group === group));
      for (const letter of chosen) {
        dead.splice(dead.indexOf(letter), 1);
        // Back into its own group's queue only, with a fresh count: every other group already had it.
        const target = groupFor(letter.group);
        enqueue(target, letter.event);
        wake(target);
      }
      return chosen.length;
    },

    async deadLetterCount() {
      return dead.length;
    },

    async consumerLag(name) {
      // The queue holds exactly what the group has not acknowledged: waiting, in flight, retrying.
      return groups.get(name)?.queue.length ?? 0;
    },

    async close() {
      closed = true;
      const all = [...groups.values()].flatMap((g) => [...g.consumers]);
      for (const c of all) c.running = false;
      for (const g of groups.values()) wake(g);
      await Promise.all(all.map((c) => c.done));
      for (const t of timers) clearTimeout(t);
      timers.clear();
      groups.clear();
      log.length = 0;
      dead.length = 0;
    },
  };
}
