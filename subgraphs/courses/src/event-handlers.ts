/**
 * The events courses consumes from the bus, as consumer group "courses": every instance of this
 * service shares the work, and each event reaches the group once per delivery (at least once in
 * all). The effects are idempotent (fulfillment.ts), so redeliveries are harmless.
 *
 * Payloads are checked against the kit's event contracts (packages/kit/src/events/contracts.ts)
 * before they reach a handler. A handler that throws gets the event again later, which is right
 * for a database hiccup and wrong for an event that can never succeed (malformed, or naming a
 * course that does not exist): those are logged loudly and acknowledged instead of being retried
 * forever. Either way the event is answered (fulfillment.ts), so payments stops publishing it.
 *
 * Users' privacy sagas (docs/privacy.md): DataExportRequested is answered with courses' part
 * (data-export.ts), AccountErasureRequested with courses' erasure step (erasure.ts). Every delivery
 * is answered again, since the previous answer may be the one that got lost.
 */
import { isGraphQLErrorWithCode, type Logger } from '@campus/kit/core';
import { consumeEvents, EVENTS, type DomainEvent, type EventBus, type EventPayload } from '@campus/kit/events';
import { answerExport } from './data-export.ts';
import type { CoursesDomain } from './domain.ts';
import { eraseAccount } from './erasure.ts';
import { CONSUMER, enrollAfterPurchase, recordAnswer, revokeAfterRefund, type FulfillmentResult, type PaymentFact } from './fulfillment.ts';

export interface EventHandlerDeps {
  domain: CoursesDomain;
  logger: Logger;
}

type PaymentEvent = DomainEvent<EventPayload<'PaymentSucceeded' | 'PaymentRefunded'>>;

/** Starts consuming; resolves to a function that stops. */
export function registerEventHandlers(bus: EventBus, deps: EventHandlerDeps): Promise<() => Promise<void>> {
  const { domain, logger } = deps;
  const apply = (
    effect: (domain: CoursesDomain, fact: PaymentFact) => Promise<FulfillmentResult>,
    answer: typeof EVENTS.EnrollmentGranted | typeof EVENTS.EnrollmentRevoked,
  ) => async (event: PaymentEvent) => {
    const { paymentId, userId, courseId } = event.payload;
    const fact: PaymentFact = { eventId: event.id, paymentId, userId, courseId };
    try {
      const { outcome, enrollment } = await effect(domain, fact);
      logger.info({ eventId: fact.eventId, type: event.type, outcome, enrollmentId: enrollment?.id }, 'payment event handled');
    } catch (e) {
      if (isGraphQLErrorWithCode(e) && e.extensions.code === 'NOT_FOUND') {
        logger.error({ eventId: fact.eventId, type: event.type, courseId: fact.courseId }, 'dropping a payment event for an unknown course');
        // Answered all the same (no enrollment): asking again would never change the outcome.
        await domain.prisma.$transaction((tx) => recordAnswer(tx, answer, fact));
        domain.outboxCommitted();
        return;
      }
      throw e;
    }
  };
  return consumeEvents(bus, CONSUMER, {
      PaymentSucceeded: apply(enrollAfterPurchase, EVENTS.EnrollmentGranted),
      PaymentRefunded: apply(revokeAfterRefund, EVENTS.EnrollmentRevoked),
      DataExportRequested: async (event) => {
        await answerExport(domain.prisma, { eventId: event.id, ...event.payload });
        domain.outboxCommitted();
        logger.info({ eventId: event.id, exportId: event.payload.exportId }, 'data export part answered');
      },
      AccountErasureRequested: async (event) => {
        const { deletionId, userId, pseudonym } = event.payload;
        const { summary, first } = await eraseAccount(domain, { eventId: event.id, deletionId, userId, pseudonym });
        // Counts only: the log must not keep what the step erased.
        logger.info({ eventId: event.id, deletionId, first, summary }, 'erasure step done');
      },
    }, logger);
}
