/**
 * The events payments consumes from the bus, as consumer group "payments": courses' answers to
 * its payment events (packages/kit/src/events/contracts.ts). EnrollmentGranted answers
 * PaymentSucceeded, EnrollmentRevoked answers PaymentRefunded; `acknowledges` names the outbox row
 * answered. Recording the answer on that row stops the relay from publishing it again
 * (acknowledged delivery, packages/kit/src/events/outbox-relay.ts). A grant is also noted on the
 * payment (`fulfilledAt`, `enrollmentId`) so an admin can tell a paid purchase that has not
 * reached the buyer yet.
 *
 * Answers arrive at least once (courses answers every redelivery again); recording one is
 * idempotent, so no processed-event record is needed. A handler that throws (the database
 * blipped) gets the event again.
 */
import type { Logger } from '@campus/kit/core';
import { acknowledgeOutboxEvent, consumeEvents, type DomainEvent, type EventBus, type EventPayload } from '@campus/kit/events';
import { isUuid } from '@campus/kit/subgraph';
import type { PrismaClient } from './generated/prisma/client.ts';

export const CONSUMER = 'payments';

export interface EventHandlerDeps {
  prisma: PrismaClient;
  logger: Logger;
}

type Answer = DomainEvent<EventPayload<'EnrollmentGranted' | 'EnrollmentRevoked'>>;

/** Starts consuming; resolves to a function that stops. */
export function registerEventHandlers(bus: EventBus, { prisma, logger }: EventHandlerDeps): Promise<() => Promise<void>> {
  const record = (granted: boolean) => async (event: Answer) => {
    const { acknowledges, paymentId, enrollmentId } = event.payload;
    const first = await prisma.$transaction(async (tx) => {
      const acknowledged = await acknowledgeOutboxEvent(tx, acknowledges);
      // Payments' ids are UUIDs; another string cannot name one of its payments (and is no query).
      if (granted && enrollmentId && isUuid(paymentId)) {
        await tx.payment.updateMany({ where: { id: paymentId, fulfilledAt: null }, data: { fulfilledAt: new Date(), enrollmentId } });
      }
      return acknowledged;
    });
    logger.debug({ eventId: event.id, type: event.type, acknowledges, paymentId, first }, 'payment event acknowledged');
  };
  return consumeEvents(bus, CONSUMER, { EnrollmentGranted: record(true), EnrollmentRevoked: record(false) }, logger);
}
