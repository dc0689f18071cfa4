/**
 * Payment events → enrollments on a real database: exactly one effect per event id, refunds
 * revoke what their payment granted, out-of-order delivery cannot leave a refunded buyer with
 * access, and the bus consumer drops events that can never succeed instead of retrying forever.
 */
import { randomUUID } from 'node:crypto';
import { seedUuid } from '@campus/kit/core';
import { createMemoryEventBus, domainEvent, type EventBus } from '@campus/kit/events';
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAfterPurchase, revokeAfterRefund, type PaymentFact } from '@campus/courses/fulfillment';
import { buildCourse, type BuiltCourse } from './fixtures.ts';
import { startCourses, type CoursesHarness } from './harness.ts';

describe('fulfillment of payment events', () => {
  let h: CoursesHarness;
  let bus: EventBus;
  let course: BuiltCourse;
  let n = 0;

  beforeAll(async () => {
    bus = createMemoryEventBus({ retryDelayMs: () => 10 });
    h = await startCourses({ bus });
    course = await buildCourse(h, await h.person('seller', 'INSTRUCTOR'), { price: { amount: 4999, currency: 'USD' } });
  });
  afterAll(async () => {
    await h?.close();
    await bus?.close();
  });

  const fact = (overrides: Partial<PaymentFact> = {}): PaymentFact => ({
    eventId: randomUUID(),
    userId: seedUuid(`buyer-${n++}`),
    courseId: course.id,
    paymentId: `pay_${randomUUID()}`,
    ...overrides,
  });
  const enrollmentOf = (userId: string) =>
    h.service.prisma.enrollment.findUnique({ where: { userId_courseId: { userId, courseId: course.id } }, include: { history: true } });
  const count = async () => (await h.service.prisma.course.findUniqueOrThrow({ where: { id: course.id } })).enrollmentCount;

  it('enrolls the buyer once when the same event is handled twice, even concurrently', async () => {
    const purchase = fact();
    const before = await count();
    const outcomes = await Promise.all([enrollAfterPurchase(h.service.domain, purchase), enrollAfterPurchase(h.service.domain, purchase)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['changed', 'duplicate']);
    expect((await enrollAfterPurchase(h.service.domain, purchase)).outcome).toBe('duplicate');
    const enrollment = await enrollmentOf(purchase.userId);
    expect(enrollment).toMatchObject({ status: 'ACTIVE', source: 'PURCHASE', paymentId: purchase.paymentId });
    expect(enrollment!.history).toHaveLength(1);
    expect(await count()).toBe(before + 1);
    expect(await h.service.prisma.processedEvent.count({ where: { eventId: purchase.eventId, consumer: 'courses' } })).toBe(1);
  });

  it('revokes after a refund of that payment, and restores the same enrollment after a new purchase', async () => {
    const purchase = fact();
    await enrollAfterPurchase(h.service.domain, purchase);
    const before = await count();
    const refund = await revokeAfterRefund(h.service.domain, { ...purchase, eventId: randomUUID() });
    expect(refund.outcome).toBe('changed');
    expect(await enrollmentOf(purchase.userId)).toMatchObject({ status: 'REVOKED', revokeReason: 'refunded' });
    expect(await count()).toBe(before - 1);

    const again = fact({ userId: purchase.userId });
    await enrollAfterPurchase(h.service.domain, again);
    const restored = await enrollmentOf(purchase.userId);
    expect(restored).toMatchObject({ id: refund.enrollment!.id, status: 'ACTIVE', paymentId: again.paymentId, revokedAt: null });
    expect(restored!.history.map((c) => c.toStatus).sort()).toEqual(['ACTIVE', 'ACTIVE', 'REVOKED']);
    expect(await count()).toBe(before);
    expect(await h.service.prisma.enrollment.count({ where: { userId: purchase.userId } })).toBe(1);
  });

  it('keeps progress through a revoke and restore', async () => {
    const purchase = fact();
    const { enrollment } = await enrollAfterPurchase(h.service.domain, purchase);
    await h.service.prisma.lessonProgress.create({ data: { enrollmentId: enrollment!.id, lessonId: course.lessonIds[0]! } });
    await revokeAfterRefund(h.service.domain, { ...purchase, eventId: randomUUID() });
    await enrollAfterPurchase(h.service.domain, fact({ userId: purchase.userId }));
    expect(await h.service.prisma.lessonProgress.count({ where: { enrollmentId: enrollment!.id } })).toBe(1);
  });

  it('grants nothing when the refund arrives before its purchase', async () => {
    const purchase = fact();
    const before = await count();
    await revokeAfterRefund(h.service.domain, { ...purchase, eventId: randomUUID() });
    const late = await enrollAfterPurchase(h.service.domain, purchase);
    expect(late.outcome).toBe('unchanged');
    expect(await enrollmentOf(purchase.userId)).toMatchObject({ status: 'REVOKED', paymentId: purchase.paymentId });
    expect(await count()).toBe(before);
  });

  it('leaves access granted by something else alone when an unrelated payment is refunded', async () => {
    const purchase = fact();
    await enrollAfterPurchase(h.service.domain, purchase);
    const other = await revokeAfterRefund(h.service.domain, { ...purchase, eventId: randomUUID(), paymentId: 'pay_someone_else' });
    expect(other.outcome).toBe('unchanged');
    expect((await enrollmentOf(purchase.userId))!.status).toBe('ACTIVE');
  });

  it('enrolls through the bus as consumer group "courses", and a redelivered event changes nothing', async () => {
    const purchase = fact();
    const event = domainEvent('PaymentSucceeded', { paymentId: purchase.paymentId, userId: purchase.userId, courseId: course.id });
    await bus.publish(event);
    await bus.publish(event);
    // A later event through the same group proves the two before it were handled.
    const marker = fact();
    await bus.publish(domainEvent('PaymentSucceeded', { paymentId: marker.paymentId, userId: marker.userId, courseId: course.id }));
    await waitFor(async () => (await enrollmentOf(marker.userId)) !== null, 'the event to be handled');
    const enrollment = await enrollmentOf(purchase.userId);
    expect(enrollment).toMatchObject({ status: 'ACTIVE', source: 'PURCHASE' });
    expect(enrollment!.history).toHaveLength(1);

    await bus.publish(domainEvent('PaymentRefunded', { paymentId: purchase.paymentId, userId: purchase.userId, courseId: course.id }));
    await waitFor(async () => (await enrollmentOf(purchase.userId))!.status === 'REVOKED', 'the event to be handled');
  });

  it('drops malformed events and events for unknown courses instead of retrying them forever', async () => {
    const buyer = fact();
    await bus.publish(domainEvent('PaymentSucceeded', { paymentId: 'p', userId: 'not-a-uuid', courseId: course.id }));
    await bus.publish(domainEvent('PaymentSucceeded', { paymentId: 'p', userId: buyer.userId, courseId: '00000000-0000-4000-8000-0000000000aa' }));
    const marker = fact();
    await bus.publish(domainEvent('PaymentSucceeded', { paymentId: marker.paymentId, userId: marker.userId, courseId: course.id }));
    await waitFor(async () => (await enrollmentOf(marker.userId)) !== null, 'the event to be handled');
    expect(await h.service.prisma.enrollment.count({ where: { userId: buyer.userId } })).toBe(0);
  });

  it('answers every payment event, a redelivered one again, naming the event and the enrollment', async () => {
    const answers = (eventId: string) =>
      h.service.prisma.outboxEvent.findMany({ where: { payload: { path: ['acknowledges'], equals: eventId } }, orderBy: { seq: 'asc' } });
    const purchase = fact();
    await enrollAfterPurchase(h.service.domain, purchase);
    const enrollment = await enrollmentOf(purchase.userId);
    const [granted] = await answers(purchase.eventId);
    expect(granted).toMatchObject({
      type: 'EnrollmentGranted',
      payload: { acknowledges: purchase.eventId, paymentId: purchase.paymentId, enrollmentId: enrollment!.id, enrollmentStatus: 'ACTIVE' },
    });
    // The first answer may be what was lost: a duplicate is answered again, with the same facts.
    expect((await enrollAfterPurchase(h.service.domain, purchase)).outcome).toBe('duplicate');
    const again = await answers(purchase.eventId);
    expect(again).toHaveLength(2);
    expect(again[1]!.payload).toEqual(granted!.payload);

    const refund = { ...purchase, eventId: randomUUID() };
    await revokeAfterRefund(h.service.domain, refund);
    expect(await answers(refund.eventId)).toMatchObject([
      { type: 'EnrollmentRevoked', payload: { acknowledges: refund.eventId, enrollmentId: enrollment!.id, enrollmentStatus: 'REVOKED' } },
    ]);

    // An event for an unknown course is dropped, and answered with no enrollment so it is not sent again.
    const unknown = domainEvent('PaymentSucceeded', { paymentId: 'p-unknown', userId: fact().userId, courseId: '00000000-0000-4000-8000-0000000000ab' });
    await bus.publish(unknown);
    await waitFor(async () => (await answers(unknown.id)).length === 1, 'the unknown course to be answered');
    expect((await answers(unknown.id))[0]).toMatchObject({ type: 'EnrollmentGranted', payload: { enrollmentId: null, enrollmentStatus: null } });
  });
});
