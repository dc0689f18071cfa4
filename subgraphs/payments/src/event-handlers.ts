/**
 * The events payments consumes from the bus, as consumer group "payments"
 * (packages/kit/src/events/contracts.ts):
 *
 *   - Courses' answers to its payment events. EnrollmentGranted answers PaymentSucceeded,
 *     EnrollmentRevoked answers PaymentRefunded; `acknowledges` names the outbox row answered.
 *     Recording the answer on that row stops the relay from publishing it again (acknowledged
 *     delivery, packages/kit/src/events/outbox-relay.ts). A grant is also noted on the payment
 *     (`fulfilledAt`, `enrollmentId`) so an admin can tell a paid purchase that has not reached the
 *     buyer yet. Answers arrive at least once (courses answers every redelivery again); recording
 *     one is idempotent, so no processed-event record is needed.
 *   - Users' privacy sagas (docs/privacy.md): DataExportRequested is answered with payments' part
 *     (data-export.ts), AccountErasureRequested with payments' erasure step (erasure.ts). Every
 *     delivery is answered again, since the previous answer may be the one that got lost.
 *
 * A handler that throws (the database blipped, an erasure held for a payment in flight) gets the
 * event again.
 */
import type { Logger } from '@campus/kit/core';
import { acknowledgeOutboxEvent, consumeEvents, type DomainEvent, type EventBus, type EventPayload } from '@campus/kit/events';
import { isUuid } from '@campus/kit/subgraph';
import { answerExport } from './data-export.ts';
import { ErasureOnHold, eraseAccount } from './erasure.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

export const CONSUMER = 'payments';

export interface EventHandlerDeps {
  prisma: PrismaClient;
  logger: Logger;
  /** Called after a transaction that wrote outbox rows commits: wakes the relay. */
  outboxCommitted(): void;
}

type Answer = DomainEvent<EventPayload<'EnrollmentGranted' | 'EnrollmentRevoked'>>;

/** Starts consuming; resolves to a function that stops. */
export function registerEventHandlers(bus: EventBus, { prisma, logger, outboxCommitted }: EventHandlerDeps): Promise<() => Promise<void>> {
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
  return consumeEvents(
    bus,
    CONSUMER,
    {
      EnrollmentGranted: record(true),
      EnrollmentRevoked: record(false),
      DataExportRequested: async (event) => {
        await answerExport(prisma, { eventId: event.id, ...event.payload });
        outboxCommitted();
        logger.info({ eventId: event.id, exportId: event.payload.exportId }, 'data export part answered');
      },
      AccountErasureRequested: async (event) => {
        const { deletionId, userId, pseudonym } = event.payload;
        try {
          const { summary, first } = await eraseAccount(prisma, { eventId: event.id, deletionId, userId, pseudonym });
          outboxCommitted();
          // Counts only: the log must not keep what the step erased.
          logger.info({ eventId: event.id, deletionId, first, summary }, 'erasure step done');
        } catch (e) {
          if (e instanceof ErasureOnHold) logger.warn({ eventId: event.id, deletionId, reason: e.reason }, 'erasure step held: a payment is in flight; will be asked again');
          throw e;
        }
      },
    },
    logger,
  );
}
