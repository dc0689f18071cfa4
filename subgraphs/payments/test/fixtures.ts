/** Rows and provider events for integration tests, shaped as checkout and the sandbox make them. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Payment, PrismaClient } from '../src/generated/prisma/client.ts';
import { purchaseLockFor } from '../src/payment-state.ts';

export async function pendingPayment(prisma: PrismaClient, overrides: Partial<Payment> = {}): Promise<Payment> {
  const userId = overrides.userId ?? randomUUID();
  const courseId = overrides.courseId ?? randomUUID();
  return prisma.payment.create({
    data: {
      userId,
      courseId,
      courseTitle: 'TypeScript from Scratch',
      amount: 4900,
      currency: 'EUR',
      provider: 'sandbox',
      buyerName: 'Sam Student',
      buyerEmail: 'student@campus.test',
      purchaseLock: purchaseLockFor('PENDING', userId, courseId),
      ...overrides,
    },
  });
}

const evtId = () => `evt_test_${randomBytes(8).toString('hex')}`;

export function intentEvent(
  type: 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.processing',
  payment: Payment,
  overrides: Record<string, unknown> = {},
) {
  const failed = type === 'payment_intent.payment_failed';
  return {
    id: evtId(),
    type,
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: `pi_test_${payment.id.slice(0, 8)}`,
        object: 'payment_intent',
        status: failed ? 'requires_payment_method' : type === 'payment_intent.succeeded' ? 'succeeded' : 'processing',
        amount: payment.amount,
        currency: payment.currency.toLowerCase(),
        metadata: { paymentId: payment.id },
        payment_method_details: { brand: 'visa', last4: failed ? '0002' : '4242' },
        last_payment_error: failed ? { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } : null,
        ...overrides,
      },
    },
  };
}
