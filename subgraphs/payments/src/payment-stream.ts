/**
 * Turns pub/sub pointers (live-updates.ts) into the root values a Payment subscription sends: for
 * each message, the payment as it is now, and only when its version is newer than what this
 * subscriber last received (messages can arrive late or twice). `return()` from graphql-ws ends
 * the stream at once and unsubscribes from the topic.
 */
import { createPushIterator, type PubSubIterator } from '@campus/kit/events';
import type { Payment } from './generated/prisma/client.ts';
import type { PaymentChanged } from './live-updates.ts';

export function paymentStream<F extends string>(
  field: F,
  source: PubSubIterator<PaymentChanged>,
  load: (paymentId: string) => Promise<Payment | null>,
  initial: Payment[] = [],
  /**
   * Runs before each payment is handed to graphql-js for execution. A subscription's context
   * lives as long as the subscription, so its DataLoaders would answer every event with what the
   * first one cached (a receipt still null after the payment succeeded); this renews them.
   */
  beforeEach: () => void = () => {},
): AsyncIterableIterator<Record<F, Payment>> {
  const out = createPushIterator<Record<F, Payment>>(() => void source.return?.());
  const sent = new Map<string, number>();
  const emit = (payment: Payment) => {
    if ((sent.get(payment.id) ?? 0) >= payment.version) return;
    sent.set(payment.id, payment.version);
    out.push({ [field]: payment } as Record<F, Payment>);
  };
  for (const p of initial) emit(p);
  void (async () => {
    try {
      for await (const message of source) {
        const payment = await load(message.paymentId);
        if (payment) emit(payment);
      }
      out.end();
    } catch (error) {
      out.end(error);
    }
  })();
  const { iterator } = out;
  return {
    next: () => {
      beforeEach();
      return iterator.next();
    },
    return: () => iterator.return!(),
    throw: (e) => iterator.throw!(e),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
