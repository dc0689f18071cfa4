/**
 * Idempotency keys are claimed before anything else is looked at (src/idempotency.ts): a key
 * already used answers with its payment without asking courses or users (they are unreachable
 * here, so any other check would fail), a duplicate in flight waits for the first request's
 * result, a failed first request leaves the key free, and expired keys are pruned. The same
 * checkout racing against the real courses service is in the whole-stack tests.
 */
import { randomUUID } from 'node:crypto';
import type { Viewer } from '@campus/kit/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout, type CheckoutDeps } from '../src/checkout.ts';
import { requestHash } from '../src/idempotency.ts';
import { pendingPayment } from './fixtures.ts';
import { startPayments, type PaymentsHarness } from './harness.ts';

// Nothing listens on port 9 (discard): a call to courses or users fails at once.
const UNREACHABLE = 'http://127.0.0.1:9';

describe('checkout idempotency keys', () => {
  let h: PaymentsHarness;
  let deps: CheckoutDeps;
  const prisma = () => h.service.prisma;

  beforeAll(async () => {
    h = await startPayments({ env: { COURSES_URL: UNREACHABLE, USERS_URL: UNREACHABLE } });
    deps = h.service.domain.checkout;
  });
  afterAll(async () => {
    await h?.close();
  });

  const buyer = (): Viewer => ({ id: randomUUID(), role: 'STUDENT', sessionId: randomUUID() });
  const input = (courseId: string, key: string, paymentMethod = 'pm_card_visa') => ({ courseId, paymentMethod, idempotencyKey: key });
  const hashOf = (courseId: string, paymentMethod = 'pm_card_visa') => requestHash({ courseId, paymentMethod });
  const record = (userId: string, key: string) =>
    prisma().idempotencyRecord.findUnique({ where: { userId_operation_key: { userId, operation: 'checkout', key } } });
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as { extensions?: Record<string, unknown>; message: string };
    }
    throw new Error('expected the checkout to fail');
  };

  it('replays a used key before any other check: courses and users are never asked', async () => {
    const viewer = buyer();
    const payment = await pendingPayment(prisma(), { userId: viewer.id, providerPaymentId: `pi_test_${randomUUID().slice(0, 8)}` });
    const key = randomUUID();
    await prisma().idempotencyRecord.create({
      data: { userId: viewer.id, operation: 'checkout', key, requestHash: hashOf(payment.courseId), paymentId: payment.id },
    });
    const again = await checkout(deps, viewer, undefined, input(payment.courseId, key));
    expect(again.id).toBe(payment.id);
  });

  it('makes concurrent duplicates wait for the first request and answer with its payment', async () => {
    const viewer = buyer();
    const payment = await pendingPayment(prisma(), { userId: viewer.id, providerPaymentId: `pi_test_${randomUUID().slice(0, 8)}` });
    const key = randomUUID();
    // The first request holds the key and has not created its payment yet.
    await prisma().idempotencyRecord.create({ data: { userId: viewer.id, operation: 'checkout', key, requestHash: hashOf(payment.courseId) } });
    const waiting = Promise.all(Array.from({ length: 8 }, () => checkout(deps, viewer, undefined, input(payment.courseId, key))));
    await new Promise((r) => setTimeout(r, 300));
    await prisma().idempotencyRecord.update({
      where: { userId_operation_key: { userId: viewer.id, operation: 'checkout', key } },
      data: { paymentId: payment.id },
    });
    const answers = await waiting;
    expect(answers.map((p) => p.id)).toEqual(Array(8).fill(payment.id));
  });

  it('asks the client to retry the same key when the first request takes longer than the wait', async () => {
    const viewer = buyer();
    const courseId = randomUUID();
    const key = randomUUID();
    await prisma().idempotencyRecord.create({ data: { userId: viewer.id, operation: 'checkout', key, requestHash: hashOf(courseId) } });
    const impatient: CheckoutDeps = { ...deps, keys: { ...deps.keys, waitMs: 200 } };
    const e = await errorOf(checkout(impatient, viewer, undefined, input(courseId, key)));
    expect(e.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.idempotencyKey', reason: 'idempotency_key_in_use', retryAfterSeconds: 1 });
    expect(e.message).toMatch(/Retry with the same key/);
  });

  it('refuses the same key with other input, whether the first request is done or still in progress', async () => {
    const viewer = buyer();
    const payment = await pendingPayment(prisma(), { userId: viewer.id });
    const done = randomUUID();
    const busy = randomUUID();
    await prisma().idempotencyRecord.createMany({
      data: [
        { userId: viewer.id, operation: 'checkout', key: done, requestHash: hashOf(payment.courseId), paymentId: payment.id },
        { userId: viewer.id, operation: 'checkout', key: busy, requestHash: hashOf(payment.courseId) },
      ],
    });
    for (const key of [done, busy]) {
      const e = await errorOf(checkout(deps, viewer, undefined, input(payment.courseId, key, 'pm_card_mastercard')));
      expect(e.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.idempotencyKey' });
      expect(e.message).toMatch(/different checkout/);
    }
  });

  it('frees the key when the first request fails before creating a payment, so a retry is judged afresh', async () => {
    const viewer = buyer();
    const courseId = randomUUID();
    const key = randomUUID();
    const bad = await errorOf(checkout(deps, viewer, undefined, input(courseId, key, 'pm_card_unknown')));
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.paymentMethod' });
    expect(await record(viewer.id, key)).toBeNull();
    // Courses cannot be reached: refused, and the key is free again.
    await errorOf(checkout(deps, viewer, undefined, input(courseId, key)));
    expect(await record(viewer.id, key)).toBeNull();
    expect(await prisma().payment.count({ where: { userId: viewer.id } })).toBe(0);
  });

  it('takes over a claim abandoned by a request that never finished', async () => {
    const viewer = buyer();
    const courseId = randomUUID();
    const key = randomUUID();
    await prisma().idempotencyRecord.create({
      data: { userId: viewer.id, operation: 'checkout', key, requestHash: hashOf(courseId), createdAt: new Date(Date.now() - 60_000) },
    });
    // Not asked to wait: it takes the key, goes on to courses (unreachable) and releases it.
    const e = await errorOf(checkout(deps, viewer, undefined, input(courseId, key)));
    expect(e.extensions?.field).not.toBe('input.idempotencyKey');
    expect(await record(viewer.id, key)).toBeNull();
  });

  it('prunes keys older than the retention, and treats an expired key not yet pruned as new', async () => {
    const viewer = buyer();
    const payment = await pendingPayment(prisma(), { userId: viewer.id });
    const old = new Date(Date.now() - 25 * 3_600_000);
    const [expired, kept, lingering] = [randomUUID(), randomUUID(), randomUUID()];
    await prisma().idempotencyRecord.createMany({
      data: [
        { userId: viewer.id, operation: 'checkout', key: expired, requestHash: hashOf(payment.courseId), paymentId: payment.id, createdAt: old },
        { userId: viewer.id, operation: 'checkout', key: kept, requestHash: hashOf(payment.courseId), paymentId: payment.id },
      ],
    });
    expect(await h.service.pruneIdempotencyKeys()).toBeGreaterThanOrEqual(1);
    expect(await record(viewer.id, expired)).toBeNull();
    expect(await record(viewer.id, kept)).not.toBeNull();

    await prisma().idempotencyRecord.create({
      data: { userId: viewer.id, operation: 'checkout', key: lingering, requestHash: hashOf(payment.courseId), paymentId: payment.id, createdAt: old },
    });
    // Not replayed: a fresh checkout, which goes on to courses (unreachable here).
    await errorOf(checkout(deps, viewer, undefined, input(payment.courseId, lingering)));
    expect(await record(viewer.id, lingering)).toBeNull();
  });
});
