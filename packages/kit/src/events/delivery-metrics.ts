/**
 * What the delivery machinery tells an operator (docs/delivery.md), on a service's metrics registry:
 *
 *   campus_event_dead_letters                      gauge: dead letters on the bus, every group
 *   campus_outbox_republished_total{type}          counter: events published again for want of an answer
 *   campus_outbox_given_up_total{type}             counter: events the relay stopped publishing unanswered
 *
 * A rising republished count means answers are being lost (Redis lost data, a consumer is down);
 * any dead letter or given-up event needs a person.
 */
import type { Logger } from '../core/logger.ts';
import { counter, sampledGauge, type MetricsRegistry } from '../core/metrics.ts';
import type { EventBus } from './event-bus.ts';
import type { OutboxRelayOptions } from './outbox-relay.ts';

export function watchDeadLetters(registry: MetricsRegistry, bus: EventBus): void {
  sampledGauge(registry, 'campus_event_dead_letters', 'Events a consumer group gave up on after its retries, on the whole bus.', () =>
    bus.deadLetterCount(),
  );
}

/** The relay's `onRepublish`: counts, and logs at warn (at error when the relay gives up). */
export function republishReporter(registry: MetricsRegistry, logger: Logger): NonNullable<OutboxRelayOptions['onRepublish']> {
  const republished = counter(registry, 'campus_outbox_republished_total', 'Outbox events published again because their answer was overdue.', ['type']);
  const givenUp = counter(registry, 'campus_outbox_given_up_total', 'Outbox events the relay stopped publishing without an answer.', ['type']);
  return (row) => {
    if (row.givenUp) {
      givenUp.inc({ type: row.type });
      logger.error({ eventId: row.id, type: row.type, publishCount: row.publishCount }, 'outbox event never answered; no longer published (docs/delivery.md)');
    } else {
      republished.inc({ type: row.type });
      logger.warn({ eventId: row.id, type: row.type, publishCount: row.publishCount }, 'outbox event not answered in time; publishing it again');
    }
  };
}
