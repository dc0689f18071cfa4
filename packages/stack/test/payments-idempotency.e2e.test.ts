/**
 * Idempotency keys through the whole stack (docs/payments.md, "Idempotency"): duplicates of one
 * checkout sent at once all get the first call's payment, never a refusal, even though the
 * purchase completes and courses enrolls the buyer while some of them are still in flight; and a
 * retry long after, with the buyer enrolled, still gets the original payment.

 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../src/testing.ts';
import { checkout, createCourse, logInAs, newStudent, settled, waitForEnrollment, type PaidCourse } from './payments-helpers.ts';

describe('idempotency keys through the stack', () => {
  let stack: TestStack;
  let url: string;
  let course: PaidCourse;

  beforeAll(async () => {
    stack = await startTestStack();
    url = stack.routerUrl;
    course = await createCourse(url, await logInAs(url, 'INSTRUCTOR'), { price: { amount: 4900, currency: 'EUR' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers 8 parallel checkouts with one key with the same payment and no error, 100 times over', async () => {
    for (let round = 0; round < 100; round++) {
      const student = await newStudent(url);
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 8 }, () => checkout(url, student, course.id, 'pm_card_visa', key)));
      expect({ round, errors: results.flatMap((r) => r.errors ?? []) }).toEqual({ round, errors: [] });
      expect(new Set(results.map((r) => r.data.checkout.payment.id)).size).toBe(1);
    }
  }, 300_000);

  it('returns the original payment to a retry after the purchase completed and the buyer was enrolled', async () => {
    const student = await newStudent(url);
    const key = randomUUID();
    const first = await checkout(url, student, course.id, 'pm_card_visa', key);
    expect(first.errors).toBeUndefined();
    const paymentId = first.data.checkout.payment.id;
    await settled(url, student, paymentId, 'SUCCEEDED');
    await waitForEnrollment(url, student, course.id, 'ACTIVE');

    const retry = await checkout(url, student, course.id, 'pm_card_visa', key);
    expect(retry.errors).toBeUndefined();
    expect(retry.data.checkout.payment).toMatchObject({ id: paymentId, status: 'SUCCEEDED' });
    // A new key is a new purchase, refused now that the buyer owns the course.
    const fresh = await checkout(url, student, course.id, 'pm_card_visa', randomUUID());
    expect(fresh.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});
