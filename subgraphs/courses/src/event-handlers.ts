/**
 * The events courses consumes from the bus, as consumer group "courses": every instance of this
 * service shares the work, and each event reaches the group once per delivery (at least once in
 * all). The effects are idempotent (fulfillment.ts), so redeliveries are harmless.
 *
 * A handler that throws gets the event again later, which is right for a database hiccup and wrong
 * for an event that can never succeed (malformed, or naming a course that does not exist): those
 * are logged loudly and acknowledged instead of being retried forever.
 */
import { isGraphQLErrorWithCode, type Logger } from '@campus/kit/core';
import type { DomainEvent, EventBus } from '@campus/kit/events';
import { z } from 'zod';
import type { CoursesDomain } from './domain.ts';
import { CONSUMER, enrollAfterPurchase, revokeAfterRefund, type FulfillmentResult, type PaymentFact } from './fulfillment.ts';

export const PAYMENT_SUCCEEDED = 'PaymentSucceeded';
export const PAYMENT_REFUNDED = 'PaymentRefunded';

const paymentEvent = z.object({
  id: z.uuid(),
  payload: z.object({
    paymentId: z.string().min(1).max(200),
    userId: z.uuid(),
    courseId: z.uuid(),
  }),
});

export interface EventHandlerDeps {
  domain: CoursesDomain;
  logger: Logger;
}

const EFFECTS: Record<string, (domain: CoursesDomain, fact: PaymentFact) => Promise<FulfillmentResult>> = {
  [PAYMENT_SUCCEEDED]: enrollAfterPurchase,
  [PAYMENT_REFUNDED]: revokeAfterRefund,
};

/** Starts consuming; resolves to a function that stops. */
export function registerEventHandlers(bus: EventBus, deps: EventHandlerDeps): Promise<() => Promise<void>> {
  const { domain, logger } = deps;
  return bus.consume(CONSUMER, Object.keys(EFFECTS), async (event: DomainEvent) => {
    const effect = EFFECTS[event.type];
    if (!effect) return;
    const parsed = paymentEvent.safeParse(event);
    if (!parsed.success) {
      logger.error({ eventId: event.id, type: event.type, issues: parsed.error.issues }, 'dropping a malformed payment event');
      return;
    }
    const fact: PaymentFact = { eventId: parsed.data.id, ...parsed.data.payload };
    try {
      const { outcome, enrollment } = await effect(domain, fact);
      logger.info({ eventId: fact.eventId, type: event.type, outcome, enrollmentId: enrollment?.id }, 'payment event handled');
    } catch (e) {
      if (isGraphQLErrorWithCode(e) && e.extensions.code === 'NOT_FOUND') {
        logger.error({ eventId: fact.eventId, type: event.type, courseId: fact.courseId }, 'dropping a payment event for an unknown course');
        return;
      }
      throw e;
    }
  });
}
