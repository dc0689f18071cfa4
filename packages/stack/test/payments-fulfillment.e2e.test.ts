/**
 * Exactly-once enrollment through the outbox and the bus (docs/payments.md), with services
 * stopped and started as processes would be: the embedded databases live on disk for this file
 * (PGlite) or in PostgreSQL, and the bus is the in-process one or Redis Streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, waitFor } from '@campus/test-kit';
import { startTestStack, type TestStack } from '../src/testing.ts';
import { checkout, createCourse, enrollmentStatus, logInAs, newStudent, settled, waitForEnrollment, type Account, type PaidCourse } from './payments-helpers.ts';

const ENROLLMENTS = /* GraphQL */ `{ me { enrollments(first: 10) { totalCount edges { node { status source course { id } } } } } }`;

describe('fulfillment through the outbox', () => {
  let stack: TestStack;
  let url: string;
  let instructor: Account;
  let course: PaidCourse;

  beforeAll(async () => {
    stack = await startTestStack({ persistent: true, env: { PAYMENTS_SANDBOX_DELAY_MS: '1500' } });
    url = stack.routerUrl;
    instructor = await logInAs(url, 'INSTRUCTOR');
    course = await createCourse(url, instructor);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('enrolls once when the same PaymentSucceeded event is delivered twice', async () => {
    const student = await newStudent(url);
    const events: { id: string; type: string; occurredAt: string; payload: Record<string, unknown> }[] = [];
    const stop = await stack.shared.bus.consume(`observer-${Date.now()}`, ['PaymentSucceeded'], async (e) => void events.push(e));
    try {
      const r = await checkout(url, student, course.id);
      const paymentId = r.data.checkout.payment.id;
      await settled(url, student, paymentId, 'SUCCEEDED');
      await waitForEnrollment(url, student, course.id, 'ACTIVE');
      const event = await waitFor(() => events.find((e) => e.payload.paymentId === paymentId), 'the event on the bus', 15_000);

      // The relay publishes again after a crash between publishing and marking; brokers redeliver.
      await stack.shared.bus.publish(event);
      await stack.shared.bus.publish(event);
      // A later event proves the duplicates were handled (the bus delivers a group's events in order).
      const marker = await newStudent(url);
      const m = await checkout(url, marker, course.id);
      await settled(url, marker, m.data.checkout.payment.id, 'SUCCEEDED');
      await waitForEnrollment(url, marker, course.id, 'ACTIVE');
    } finally {
      await stop();
    }
    const mine = await graphql(url, ENROLLMENTS, { token: student.token });
    expect(mine.data.me.enrollments.totalCount).toBe(1);
    expect(mine.data.me.enrollments.edges[0].node).toMatchObject({ status: 'ACTIVE', source: 'PURCHASE', course: { id: course.id } });
  });

  it('enrolls a buyer whose payment succeeded while the courses service was down, once it is back', async () => {
    const student = await newStudent(url);
    // Succeeds 1.5 s after checkout: time enough to stop courses first.
    const r = await checkout(url, student, course.id, 'pm_card_visa_delayed');
    const paymentId = r.data.checkout.payment.id;
    await stack.stopService('courses');
    try {
      // It was still PENDING when courses stopped, so the success (and its event) came after.
      const status = await graphql(url, `query($id: ID!) { payment(id: $id) { status } }`, { token: student.token, variables: { id: paymentId } });
      expect(status.data.payment.status).toBe('PENDING');
      await settled(url, student, paymentId, 'SUCCEEDED');
    } finally {
      await stack.startService('courses');
    }
    await waitForEnrollment(url, student, course.id, 'ACTIVE');
    const mine = await graphql(url, ENROLLMENTS, { token: student.token });
    expect(mine.data.me.enrollments.totalCount).toBe(1);
  });

  it('still enrolls when payments crashed between committing the success and publishing the event', async () => {
    // Restart payments with its relay off: it commits successes and their outbox rows but never
    // publishes them, which is what a crash right after the commit leaves behind.
    await stack.stopService('payments');
    await stack.startService('payments', { PAYMENTS_OUTBOX_RELAY: 'false' });
    const student = await newStudent(url);
    const r = await checkout(url, student, course.id);
    const paymentId = r.data.checkout.payment.id;
    await settled(url, student, paymentId, 'SUCCEEDED');
    expect(await enrollmentStatus(url, student, course.id)).toBeNull();

    // The "crashed" process goes away; a fresh one relays what the first left unpublished.
    await stack.stopService('payments');
    await stack.startService('payments');
    await waitForEnrollment(url, student, course.id, 'ACTIVE');
  });
});
