/**
 * What the delivery machinery tells an operator (docs/delivery.md, docs/observability.md), on a
 * service's metrics registry:
 *
 *   campus_event_dead_letters                      gauge: dead letters on the bus, every group
 *   campus_event_consumer_lag{group}               gauge: events the service's group has not handled yet
 *   campus_outbox_unpublished_events               gauge: outbox rows not yet on the bus (backlog)
 *   campus_outbox_oldest_unpublished_age_seconds   gauge: how long the oldest of them has waited
 *   campus_outbox_republished_total{type}          counter: events published again for want of an answer
 *   campus_outbox_given_up_total{type}             counter: events the relay stopped publishing unanswered
 *   campus_live_updates_published_total{outcome}   counter: live updates published: ok / failed / timed_out
 *
 * The gauges are read when scraped, from the bus and the service's own database. A rising
 * republished count means answers are being lost (Redis lost data, a consumer is down); a growing
 * backlog or age, that the relay is not publishing; a growing lag, that a consumer is stopped or
 * slower than its producers; any dead letter or given-up event needs a person.
 */
import { Gauge } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { counter, sampledCounter, sampledGauge, type MetricsRegistry } from '../core/metrics.ts';
import type { EventBus } from './event-bus.ts';
import type { OutboxRelayOptions, RawSql } from './outbox-relay.ts';
import type { LiveUpdateCounts } from './pubsub.ts';

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

/**
 * The outbox backlog, read when scraped with one query shared by both gauges (prom-client collects
 * them side by side). `db` is the raw-SQL surface the relay uses (the service's Prisma client).
 * Rows the relay gave up on are published and not counted: campus_outbox_given_up_total has them.
 */
export function watchOutbox(registry: MetricsRegistry, db: Pick<RawSql, '$queryRawUnsafe'>, table = 'OutboxEvent'): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`Outbox table name "${table}" is not a plain identifier.`);
  let reading: Promise<{ count: number; ageSeconds: number }> | undefined;
  const read = () => {
    reading ??= Promise.resolve(
      db.$queryRawUnsafe<{ count: number; age: number | null }[]>(
        `SELECT count(*)::int AS "count", EXTRACT(EPOCH FROM now() - min("createdAt"))::float8 AS "age"
           FROM "${table}" WHERE "publishedAt" IS NULL`,
      ),
    )
      .then(([row]) => ({ count: Number(row?.count ?? 0), ageSeconds: Math.max(0, Number(row?.age ?? 0)) }))
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  sampledGauge(registry, 'campus_outbox_unpublished_events', 'Outbox events committed but not yet published on the bus.', async () => (await read()).count);
  sampledGauge(
    registry,
    'campus_outbox_oldest_unpublished_age_seconds',
    'How long the oldest unpublished outbox event has waited (0 when there is none).',
    async () => (await read()).ageSeconds,
  );
}

/** Groups whose lag a registry reports, and the bus each is read from. */
const lagSources = new WeakMap<MetricsRegistry, Map<string, EventBus>>();

/**
 * How far the service's consumer group is behind, read from the bus when scraped. The group is
 * the service's own (one per consuming service), so the label has as many values as services. A
 * bus that does not answer keeps the group's last value, as sampledGauge does.
 */
export function watchConsumerLag(registry: MetricsRegistry, bus: EventBus, group: string): void {
  let sources = lagSources.get(registry);
  if (!sources) {
    const groups = new Map<string, EventBus>();
    sources = groups;
    lagSources.set(registry, groups);
    new Gauge({
      name: 'campus_event_consumer_lag',
      help: 'Events of its types the consumer group has not handled yet (not delivered, or not acknowledged).',
      labelNames: ['group'],
      registers: [registry],
      async collect() {
        await Promise.all(
          [...groups].map(async ([name, source]) => {
            try {
              this.set({ group: name }, await source.consumerLag(name));
            } catch {
              // Keeps the last value; /ready is where an outage shows.
            }
          }),
        );
      },
    });
  }
  sources.set(group, bus);
}

/** The outcomes of the service's live updates (bestEffortPublisher's `counts`). */
export function countLiveUpdates(registry: MetricsRegistry, counts: LiveUpdateCounts): void {
  sampledCounter(
    registry,
    'campus_live_updates_published_total',
    'Live updates published for subscriptions, by outcome: ok, failed (the pub/sub refused), timed_out (given up on).',
    () => ({ ...counts }),
    'outcome',
  );
}
