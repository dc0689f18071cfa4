/**
 * The events users consumes from the bus, as consumer group "users": every instance of this
 * service shares the work, and each event reaches the group at least once. Payloads are checked
 * against the kit's event contracts (packages/kit/src/events/contracts.ts) before they reach a
 * handler; a handler that throws (the database blipped) gets the event again.
 *
 *   PaymentStarted, PaymentSucceeded, PaymentFailed, PaymentRefunded
 *       the projection of buyers' payments in flight (open-payments.ts), which account deletion
 *       checks; idempotent upserts that tolerate any order.
 *   AuditRecorded
 *       courses' and payments' audit entries, appended to the one chain under the event's id, so a
 *       redelivery is a no-op (audit-log.ts).
 *   DataExportPartReady
 *       a participant's part of an export; the last one finishes it (data-export.ts).
 *   AccountErasureStepCompleted
 *       a participant's erasure step; the last one completes the deletion (erasure.ts).
 *
 * Every effect is idempotent by its own key (payment id, event id, export and service, deletion
 * and service), so no processed-event record is needed.
 */
import type { Logger } from '@campus/kit/core';
import { consumeEvents, type EventBus } from '@campus/kit/events';
import { appendAudit } from './audit-log.ts';
import { recordExportPart } from './data-export.ts';
import type { UsersDomain } from './domain.ts';
import { recordErasureStep } from './erasure.ts';
import { paymentSettled, paymentStarted } from './open-payments.ts';

/** The bus consumer group. */
export const CONSUMER = 'users';

export interface EventHandlerDeps {
  domain: UsersDomain;
  logger: Logger;
}

/** Starts consuming; resolves to a function that stops. */
export function registerEventHandlers(bus: EventBus, { domain, logger }: EventHandlerDeps): Promise<() => Promise<void>> {
  const { prisma } = domain;
  const settled = async ({ payload }: { payload: { paymentId: string; userId: string } }) => paymentSettled(prisma, payload.paymentId, payload.userId);
  return consumeEvents(
    bus,
    CONSUMER,
    {
      PaymentStarted: async ({ payload }) => paymentStarted(prisma, payload.paymentId, payload.userId),
      PaymentSucceeded: settled,
      PaymentFailed: settled,
      PaymentRefunded: settled,
      AuditRecorded: async (event) => {
        const { at, details, ...entry } = event.payload;
        const appended = await prisma.$transaction((tx) => appendAudit(tx, { ...entry, id: event.id, at: new Date(at), details: details ?? {} }));
        logger.debug({ eventId: event.id, action: entry.action, appended }, 'audit entry received');
      },
      DataExportPartReady: async (event) => {
        const ready = await recordExportPart(domain, event.payload);
        if (ready) {
          logger.info({ exportId: ready.id }, 'data export ready');
          await domain.live.dataExportChanged(ready, [ready.requestedById, ready.userId]);
        }
      },
      AccountErasureStepCompleted: async (event) => {
        const completed = await recordErasureStep(domain, event.payload);
        if (completed) logger.info({ deletionId: completed.id, userId: completed.userId }, 'account erasure completed');
      },
    },
    logger,
  );
}
