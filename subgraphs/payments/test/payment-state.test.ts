import { describe, expect, it } from 'vitest';
import { requestHash } from '../src/idempotency.ts';
import { canTransition, canTransitionRefund, purchaseLockFor } from '../src/payment-state.ts';

describe('the payment state machine', () => {
  it('allows PENDING -> SUCCEEDED | FAILED and SUCCEEDED -> REFUNDED only', () => {
    expect(canTransition('PENDING', 'SUCCEEDED')).toBe(true);
    expect(canTransition('PENDING', 'FAILED')).toBe(true);
    expect(canTransition('SUCCEEDED', 'REFUNDED')).toBe(true);
    // What duplicated or out-of-order webhooks would ask for:
    expect(canTransition('SUCCEEDED', 'FAILED')).toBe(false);
    expect(canTransition('SUCCEEDED', 'SUCCEEDED')).toBe(false);
    expect(canTransition('FAILED', 'SUCCEEDED')).toBe(false);
    expect(canTransition('REFUNDED', 'SUCCEEDED')).toBe(false);
    expect(canTransition('PENDING', 'REFUNDED')).toBe(false);
  });

  it('lets a refund end once, either way', () => {
    expect(canTransitionRefund('PENDING', 'SUCCEEDED')).toBe(true);
    expect(canTransitionRefund('PENDING', 'FAILED')).toBe(true);
    expect(canTransitionRefund('SUCCEEDED', 'FAILED')).toBe(false);
    expect(canTransitionRefund('FAILED', 'SUCCEEDED')).toBe(false);
  });

  it('holds the purchase lock while a purchase is open or paid, and releases it otherwise', () => {
    expect(purchaseLockFor('PENDING', 'u', 'c')).toBe('u:c');
    expect(purchaseLockFor('SUCCEEDED', 'u', 'c')).toBe('u:c');
    expect(purchaseLockFor('FAILED', 'u', 'c')).toBeNull();
    expect(purchaseLockFor('REFUNDED', 'u', 'c')).toBeNull();
  });
});

describe('idempotency request hashes', () => {
  it('are equal for the same input in any key order and differ for different input', () => {
    expect(requestHash({ courseId: 'a', paymentMethod: 'pm_card_visa' })).toBe(requestHash({ paymentMethod: 'pm_card_visa', courseId: 'a' }));
    expect(requestHash({ courseId: 'a', paymentMethod: 'pm_card_visa' })).not.toBe(requestHash({ courseId: 'a', paymentMethod: 'pm_card_chargeDeclined' }));
  });
});
