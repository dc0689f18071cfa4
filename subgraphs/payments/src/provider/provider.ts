/**
 * What payments needs of a payment provider (Stripe or the built-in sandbox). Outcomes are never
 * returned by these calls: like a real provider, it reports them later through a signed webhook
 * (POST /webhooks/payments), which is the one place payment state changes.
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

export interface PaymentProvider {
  readonly name: string;
  /** A reason the payment method cannot be used, checked before anything is written; null when usable. */
  checkPaymentMethod(paymentMethod: string): string | null;
  createPayment(request: CreatePaymentRequest): Promise<CreatedPayment>;
  refund(request: RefundRequest): Promise<{ providerRefundId: string }>;
  /** Stops whatever the provider still has scheduled in this process. */
  close(): Promise<void>;
}

/** The provider refused the request itself (not the payment): e.g. it is unreachable. */
export class ProviderError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'ProviderError';
  }
}
