/**
 * Domain events between services (docs/payments.md, docs/delivery.md): written to an outbox in the
 * same transaction as the change, relayed to the bus, consumed idempotently. Delivery is at least
 * once; consumers record processed event ids so the effect happens exactly once. An event whose
 * handler keeps failing is not retried forever: after `maxDeliveries` it becomes a dead letter,
 * kept with its last error until someone replays it (scripts/events-dead-letters.ts).
 */
import { randomUUID } from 'node:crypto';

export interface DomainEvent<P = Record<string, unknown>> {
  /** Unique id (UUID); consumers deduplicate on it. */
  id: string;
  /** e.g. "PaymentSucceeded", "PaymentRefunded", "CourseUpdated". */
  type: string;
  occurredAt: string;
  payload: P;
  /**
   * The W3C trace context (traceparent, tracestate) of the transaction that wrote the event, when
   * it was traced: the consumer's span links to it (contracts.ts consumeEvents).
   */
  traceContext?: Record<string, string>;
}

export type EventHandler = (event: DomainEvent) => Promise<void>;

/**
 * An event one consumer group gave up on: its handler failed `deliveries` times (or, on Redis, the
 * consumer kept dying while handling it). Acknowledged for that group only; other groups are not
 * affected.
 */
export interface DeadLetter {
  /** The dead letter's own id (not the event's): what `replayDeadLetters({ ids })` takes. */
  id: string;
  event: DomainEvent;
  /** The consumer group that could not handle it, and the only one a replay delivers it to. */
  group: string;
  /** The last failure's message. */
  error: string;
  /** How many times it was handed to the group's handlers. */
  deliveries: number;
  /** ISO time it was given up on. */
  deadAt: string;
}

export interface DeadLetterQuery {
  /** At most this many, newest first (default 100). */
  limit?: number;
  /** Only this group's. */
  group?: string;
}

export interface DeadLetterReplay {
  /** Only these dead letters (ids from `deadLetters()`); every one (of `group`) without it. */
  ids?: string[];
  /** Only this group's. */
  group?: string;
}

export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /**
   * Consumes events of the given types as consumer `group` (one group per consuming service: every
   * instance of the group shares the work, every group sees every event). A handler that throws
   * leaves the event to be delivered again, up to the bus's `maxDeliveries`; then the event becomes
   * a dead letter. Returns a function that stops consuming.
   */
  consume(group: string, types: string[], handler: EventHandler): Promise<() => Promise<void>>;
  /** Events given up on, newest first. */
  deadLetters(options?: DeadLetterQuery): Promise<DeadLetter[]>;
  /**
   * Delivers dead letters again, each to its own group only (with a fresh delivery count), and
   * removes them from the dead letters. Returns how many were replayed; unknown ids are skipped.
   */
  replayDeadLetters(options?: DeadLetterReplay): Promise<number>;
  /** How many dead letters there are, for every group together. */
  deadLetterCount(): Promise<number>;
  /**
   * How far `group` is behind: events of its types published but not yet handled by it (not yet
   * delivered, or delivered and not acknowledged: in flight or waiting for a retry). 0 for a group
   * this bus has not seen consume. A stopped consumer's lag grows with every publish.
   */
  consumerLag(group: string): Promise<number>;
  close(): Promise<void>;
}

/** What a dead letter records of a failure: its message, bounded. */
export function failureMessage(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return message.length > 2_000 ? `${message.slice(0, 2_000)}…` : message;
}

/** A new event with a fresh id, for publishers that do not go through an outbox (tests, tools). */
export function domainEvent<P extends Record<string, unknown>>(type: string, payload: P, id: string = randomUUID()): DomainEvent<P> {
  return { id, type, occurredAt: new Date().toISOString(), payload };
}
