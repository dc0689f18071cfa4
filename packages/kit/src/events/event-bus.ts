/**
 * Domain events between services (docs/payments.md): written to an outbox in the same
 * transaction as the change, relayed to the bus, consumed idempotently. Delivery is at least once;
 * consumers record processed event ids so the effect happens exactly once.
 */
import { randomUUID } from 'node:crypto';

export interface DomainEvent<P = Record<string, unknown>> {
  /** Unique id (UUID); consumers deduplicate on it. */
  id: string;
  /** e.g. "PaymentSucceeded", "PaymentRefunded", "CourseUpdated". */
  type: string;
  occurredAt: string;
  payload: P;
}

export type EventHandler = (event: DomainEvent) => Promise<void>;

export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /**
   * Consumes events of the given types as consumer `group` (one group per consuming service: every
   * instance of the group shares the work, every group sees every event). A handler that throws
   * leaves the event to be delivered again. Returns a function that stops consuming.
   */
  consume(group: string, types: string[], handler: EventHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A new event with a fresh id, for publishers that do not go through an outbox (tests, tools). */
export function domainEvent<P extends Record<string, unknown>>(type: string, payload: P, id: string = randomUUID()): DomainEvent<P> {
  return { id, type, occurredAt: new Date().toISOString(), payload };
}
