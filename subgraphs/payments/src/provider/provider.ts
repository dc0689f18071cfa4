/**
 * What payments needs of a payment provider (Stripe or the built-in sandbox). Outcomes are never
 * returned by the calls that start something: like a real provider, it reports them later through
 * a signed webhook (POST /webhooks/payments). Webhooks can be lost, so payments also asks
 * (`retrievePayment`, Stripe's `GET /v1/payment_intents/:id`) about payments that stay PENDING too
 * long (src/reconciliation.ts).
 */
export interface CreatePaymentRequest {
  /** Our payment id; the provider echoes it in the webhook's metadata. */
  paymentId: string;
  amount: number;
  currency: string;
  paymentMethod: string;
  description: string;
  /** The provider replays the first result for a repeated key instead of charging twice. */
  idempotencyKey: string;
}

export interface PaymentMethodDetails {
  brand: string;
  last4: string | null;
}

export interface CreatedPayment {
  providerPaymentId: string;
  method: PaymentMethodDetails | null;
}

export interface RefundRequest {
  refundId: string;
  paymentId: string;
  providerPaymentId: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
}

export interface RetrievePaymentRequest {
  /** Our payment id (the metadata and idempotency key the payment was created with). */
  paymentId: string;
  /** The provider's id, when createPayment's answer was recorded; found by `paymentId` otherwise. */
  providerPaymentId?: string | null;
}

/**
 * Where a payment stands at the provider:
 *   processing  the provider has it and has not decided yet
 *   succeeded   the customer was charged
 *   failed      it will not be charged (`failure` says why)
 *   unknown     the provider never got the request: nothing was or will be charged
 */
export type ProviderPaymentStatus =
  | { status: 'unknown' }
  | {
      status: 'processing' | 'succeeded' | 'failed';
      providerPaymentId: string;
      /** What was (or will be) charged, in minor units; lower-case currency as the provider says it. */
      amount: number;
      currency: string;
      method: PaymentMethodDetails | null;
      failure?: { code: string; message: string };
    };

export interface PaymentProvider {
  readonly name: string;
  /** A reason the payment method cannot be used, checked before anything is written; null when usable. */
  checkPaymentMethod(paymentMethod: string): string | null;
  createPayment(request: CreatePaymentRequest): Promise<CreatedPayment>;
  refund(request: RefundRequest): Promise<{ providerRefundId: string }>;
  /** The provider's current view of a payment, whether or not its webhooks arrived. */
  retrievePayment(request: RetrievePaymentRequest): Promise<ProviderPaymentStatus>;
  /** Stops whatever the provider still runs in this process (what it owes is kept for the next). */
  close(): Promise<void>;
}

/** The provider refused the request itself (not the payment): e.g. it is unreachable. */
export class ProviderError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'ProviderError';
  }
}
