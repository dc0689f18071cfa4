/**
 * The webhook events the payments service understands, in Stripe's shape: `{ id, type, created,
 * data: { object } }` with a PaymentIntent or a Refund as the object. Both the sandbox provider
 * (which sends them) and the webhook (which checks them) use these definitions.
 */
import { z } from 'zod';

const metadata = z.object({ paymentId: z.string().uuid() }).passthrough();

export const paymentIntentObject = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('payment_intent'),
  status: z.enum(['processing', 'succeeded', 'requires_payment_method', 'canceled']),
  amount: z.number().int(),
  /** Lower case on the wire, as Stripe sends it. */
  currency: z.string().length(3),
  metadata,
  payment_method_details: z.object({ brand: z.string().max(50), last4: z.string().max(4).nullable() }).nullable().optional(),
  last_payment_error: z
    .object({ code: z.string().max(100), decline_code: z.string().max(100).optional(), message: z.string().max(500) })
    .nullable()
    .optional(),
});

export const refundObject = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('refund'),
  status: z.enum(['pending', 'succeeded', 'failed']),
  amount: z.number().int(),
  currency: z.string().length(3),
  payment_intent: z.string().min(1).max(255),
  metadata: metadata.extend({ refundId: z.string().uuid() }),
  failure_reason: z.string().max(500).nullable().optional(),
});

export const providerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('payment_intent.processing'), data: z.object({ object: paymentIntentObject }) }),
  z.object({ type: z.literal('payment_intent.succeeded'), data: z.object({ object: paymentIntentObject }) }),
  z.object({ type: z.literal('payment_intent.payment_failed'), data: z.object({ object: paymentIntentObject }) }),
  z.object({ type: z.literal('refund.updated'), data: z.object({ object: refundObject }) }),
]);

/** The envelope every delivery must have; the object is checked per type when processed. */
export const providerEnvelope = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(100),
  created: z.number().int().positive(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

export type PaymentIntentObject = z.infer<typeof paymentIntentObject>;
export type RefundObject = z.infer<typeof refundObject>;
export type ProviderEnvelope = z.infer<typeof providerEnvelope>;
export type ProviderEvent = z.infer<typeof providerEvent> & { id: string; created: number };
