/**
 * Live payment updates for subscriptions (paymentUpdated, myPaymentUpdates), over the PubSub the
 * service was given (in memory, or Redis so every instance hears every change). What travels is
 * a pointer, { paymentId, userId, version }: each subscriber re-reads the payment, so it always
 * sends the current state with Dates intact, and skips versions it has already sent (messages
 * can arrive late or twice). Published after the change is committed; best effort, since clients
 * re-query on reconnect and the bus, not pub/sub, carries what must not be lost.
 */
import type { Logger } from '@campus/kit/core';
import { bestEffortPublisher, type LiveUpdateCounts, type PubSub } from '@campus/kit/events';

export interface PaymentChanged {
  paymentId: string;
  userId: string;
  version: number;
}

export const paymentTopic = (paymentId: string) => `payments:payment:${paymentId}`;
export const userPaymentsTopic = (userId: string) => `payments:user:${userId}`;

export interface LiveUpdates {
  paymentChanged(payment: { id: string; userId: string; version: number }): Promise<void>;
}

/** `counts`: where the service counts how its publishes ended (campus_live_updates_published_total). */
export function liveUpdates(pubsub: PubSub, logger: Logger, counts?: LiveUpdateCounts): LiveUpdates {
  const publish = bestEffortPublisher(pubsub, logger, { counts });
  return {
    async paymentChanged(payment) {
      const message: PaymentChanged = { paymentId: payment.id, userId: payment.userId, version: payment.version };
      await Promise.all([
        publish(paymentTopic(payment.id), message, { paymentId: payment.id }),
        publish(userPaymentsTopic(payment.userId), message, { paymentId: payment.id }),
      ]);
    },
  };
}
