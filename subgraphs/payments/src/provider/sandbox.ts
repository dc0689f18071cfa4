/**
 * The built-in sandbox provider: no credentials, no network beyond this service's own webhook.
 * It accepts the test payment methods in test-methods.ts and, like a real provider, answers the
 * request at once and reports the outcome asynchronously through a signed webhook:
 *   pm_card_visa            -> payment_intent.succeeded
 *   pm_card_chargeDeclined  -> payment_intent.payment_failed (with the decline reason)
 *   pm_card_visa_delayed    -> payment_intent.processing, then .succeeded after `delayMs`
 *   refund                  -> refund.updated (succeeded)
 * Repeating a request with the same idempotency key returns the first answer and sends nothing new.
 */
import { randomBytes } from 'node:crypto';
import type { PaymentIntentObject, RefundObject } from '../webhooks/provider-event.ts';
import { ProviderError, type CreatedPayment, type CreatePaymentRequest, type PaymentProvider, type RefundRequest } from './provider.ts';
import { SANDBOX_METHODS } from './test-methods.ts';
import type { WebhookSender } from './webhook-sender.ts';

export interface SandboxOptions {
  webhooks: WebhookSender;
  /** How long pm_card_visa_delayed takes to succeed. */
  delayMs: number;
}

const MAX_REMEMBERED_KEYS = 10_000;

const id = (prefix: string) => `${prefix}_sbx_${randomBytes(12).toString('hex')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

export function sandboxProvider(options: SandboxOptions): PaymentProvider {
  const { webhooks } = options;
  // Idempotency as a real provider keeps it (per process here: the sandbox has no storage), for
  // the most recent keys only, so a long-running demo does not grow without bound.
  const answered = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const known = answered.get(key);
    if (known) return known as Promise<T>;
    const result = fn();
    answered.set(key, result);
    if (answered.size > MAX_REMEMBERED_KEYS) answered.delete(answered.keys().next().value!);
    result.catch(() => answered.delete(key));
    return result;
  };

  const emit = (type: string, object: PaymentIntentObject | RefundObject, delayMs = 0) =>
    webhooks.send({ id: id('evt'), type, created: nowSeconds(), data: { object } }, delayMs);

  return {
    name: 'sandbox',

    checkPaymentMethod(paymentMethod) {
      if (SANDBOX_METHODS[paymentMethod]) return null;
      return `is not a sandbox test payment method; use one of ${Object.keys(SANDBOX_METHODS).join(', ')}.`;
    },

    createPayment(request: CreatePaymentRequest): Promise<CreatedPayment> {
      return once(`pay:${request.idempotencyKey}`, async () => {
        const method = SANDBOX_METHODS[request.paymentMethod];
        if (!method) throw new ProviderError(`Unknown payment method ${request.paymentMethod}.`, 'payment_method_unknown');
        const intent: PaymentIntentObject = {
          id: id('pi'),
          object: 'payment_intent',
          status: 'processing',
          amount: request.amount,
          currency: request.currency.toLowerCase(),
          metadata: { paymentId: request.paymentId },
          payment_method_details: { brand: method.brand, last4: method.last4 },
          last_payment_error: null,
        };
        const { outcome } = method;
        if (outcome.kind === 'succeed') {
          emit('payment_intent.succeeded', { ...intent, status: 'succeeded' });
        } else if (outcome.kind === 'succeedAfterDelay') {
          emit('payment_intent.processing', intent);
          emit('payment_intent.succeeded', { ...intent, status: 'succeeded' }, options.delayMs);
        } else {
          emit('payment_intent.payment_failed', {
            ...intent,
            status: 'requires_payment_method',
            last_payment_error: { code: outcome.code, decline_code: outcome.declineCode, message: outcome.message },
          });
        }
        return { providerPaymentId: intent.id, method: { brand: method.brand, last4: method.last4 } };
      });
    },

    refund(request: RefundRequest) {
      return once(`refund:${request.idempotencyKey}`, async () => {
        if (!request.providerPaymentId.startsWith('pi_')) {
          throw new ProviderError(`No such payment ${request.providerPaymentId}.`, 'resource_missing');
        }
        const refund: RefundObject = {
          id: id('re'),
          object: 'refund',
          status: 'succeeded',
          amount: request.amount,
          currency: request.currency.toLowerCase(),
          payment_intent: request.providerPaymentId,
          metadata: { paymentId: request.paymentId, refundId: request.refundId },
          failure_reason: null,
        };
        emit('refund.updated', refund);
        return { providerRefundId: refund.id };
      });
    },

    close: () => webhooks.close(),
  };
}
