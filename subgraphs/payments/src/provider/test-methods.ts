/**
 * The sandbox's test payment methods, named after Stripe's (https://docs.stripe.com/testing) so
 * code and habits carry over. Tests and demos use these names, never card numbers (PCI, docs/payments.md).
 */
export type SandboxOutcome =
  | { kind: 'succeed' }
  | { kind: 'succeedAfterDelay' }
  | { kind: 'decline'; code: string; declineCode: string; message: string };

export interface SandboxMethod {
  brand: string;
  last4: string;
  outcome: SandboxOutcome;
}

const declined = (declineCode: string, message: string): SandboxOutcome => ({ kind: 'decline', code: 'card_declined', declineCode, message });

export const SANDBOX_METHODS: Record<string, SandboxMethod> = {
  pm_card_visa: { brand: 'visa', last4: '4242', outcome: { kind: 'succeed' } },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', outcome: { kind: 'succeed' } },
  /** Processes first and succeeds after PAYMENTS_SANDBOX_DELAY_MS, like a slow bank confirmation. */
  pm_card_visa_delayed: { brand: 'visa', last4: '4242', outcome: { kind: 'succeedAfterDelay' } },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', outcome: declined('generic_decline', 'Your card was declined.') },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    outcome: declined('insufficient_funds', 'Your card has insufficient funds.'),
  },
  pm_card_chargeDeclinedExpiredCard: { brand: 'visa', last4: '0069', outcome: declined('expired_card', 'Your card has expired.') },
};
