/**
 * Buying courses end to end: the router, users, courses and payments, with the sandbox
 * provider calling the payments webhook for real. Runs on PGlite with the in-process bus, and on
 * PostgreSQL with Redis Streams when TEST_DATABASE_URL and TEST_REDIS_URL are set.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, graphql, signedSubgraphRequest, waitFor } from '@campus/test-kit';
import { startTestStack, type TestStack } from '../src/testing.ts';
import {
  checkout,
  createCourse,
  enrollmentStatus,
  LESSON_CONTENT,
  logInAs,
  newStudent,
  PAYMENT,
  REFUND_PAYMENT,
  REQUEST_REFUND,
  settled,
  waitForEnrollment,
  type Account,
  type PaidCourse,
} from './payments-helpers.ts';

describe('buying a course', () => {
  let stack: TestStack;
  let url: string;
  let admin: Account;
  let instructor: Account;
  let course: PaidCourse;

  beforeAll(async () => {
    stack = await startTestStack({ env: { PAYMENTS_SANDBOX_DELAY_MS: '600000' } });
    url = stack.routerUrl;
    [admin, instructor] = await Promise.all([logInAs(url, 'ADMIN'), logInAs(url, 'INSTRUCTOR')]);
    course = await createCourse(url, instructor, { price: { amount: 4900, currency: 'EUR' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('lets a student buy a paid course with pm_card_visa, enrolls them and shows the lesson content', async () => {
    const student = await newStudent(url, 'Bea Buyer');
    const before = await graphql(url, LESSON_CONTENT, { token: student.token, variables: { id: course.lessonIds[0] } });
    expect(errorCode(before)).toBe('FORBIDDEN');

    const r = await checkout(url, student, course.id);
    expect(r.errors).toBeUndefined();
    const payment = r.data.checkout.payment;
    expect(payment).toMatchObject({ status: 'PENDING', amount: { amount: 4900, currency: 'EUR' }, courseTitle: course.title });

    const done = await settled(url, student, payment.id, 'SUCCEEDED');
    expect(done).toMatchObject({ paymentMethod: { brand: 'visa', last4: '4242' }, failureReason: null });
    expect(done.receipt).toMatchObject({ buyerName: 'Bea Buyer', description: course.title, total: { amount: 4900, currency: 'EUR' } });
    expect(done.receipt.number).toMatch(/^R-\d{4}-\d{6}$/);

    await waitForEnrollment(url, student, course.id, 'ACTIVE');
    const after = await graphql(url, LESSON_CONTENT, { token: student.token, variables: { id: course.lessonIds[0] } });
    expect(after.errors).toBeUndefined();
    expect(after.data.lesson.content).toBe('The content of lesson 1.');

    const mine = await graphql(url, `{ me { payments(first: 5) { totalCount edges { node { id status course { id title } } } } } }`, { token: student.token });
    expect(mine.data.me.payments).toMatchObject({ totalCount: 1, edges: [{ node: { id: payment.id, status: 'SUCCEEDED', course: { id: course.id, title: course.title } } }] });
  });

  it('ends a declined card FAILED with a reason and gives no access', async () => {
    const student = await newStudent(url);
    const r = await checkout(url, student, course.id, 'pm_card_chargeDeclined');
    const failed = await settled(url, student, r.data.checkout.payment.id, 'FAILED');
    expect(failed).toMatchObject({ failureReason: 'Your card was declined.', failureCode: 'generic_decline', receipt: null });
    expect(await enrollmentStatus(url, student, course.id)).toBeNull();
    const content = await graphql(url, LESSON_CONTENT, { token: student.token, variables: { id: course.lessonIds[0] } });
    expect(errorCode(content)).toBe('FORBIDDEN');

    // A failed attempt does not block buying with another card.
    const retry = await checkout(url, student, course.id, 'pm_card_visa');
    await settled(url, student, retry.data.checkout.payment.id, 'SUCCEEDED');
  });

  it('lets an admin refund a payment: REFUNDED, and the access is removed', async () => {
    const student = await newStudent(url);
    const paid = await checkout(url, student, course.id);
    const id = paid.data.checkout.payment.id;
    await settled(url, student, id, 'SUCCEEDED');
    await waitForEnrollment(url, student, course.id, 'ACTIVE');

    const notAdmin = await graphql(url, REFUND_PAYMENT, { token: student.token, variables: { input: { paymentId: id } } });
    expect(errorCode(notAdmin)).toBe('FORBIDDEN');

    const r = await graphql(url, REFUND_PAYMENT, { token: admin.token, variables: { input: { paymentId: id, reason: 'Goodwill' } } });
    expect(r.errors).toBeUndefined();
    expect(r.data.refundPayment.payment.refund).toMatchObject({ status: 'PENDING', reason: 'Goodwill' });
    const refunded = await settled(url, admin, id, 'REFUNDED');
    expect(refunded.refund.status).toBe('SUCCEEDED');
    expect(refunded.refundedAt).not.toBeNull();

    await waitForEnrollment(url, student, course.id, 'REVOKED');
    const content = await graphql(url, LESSON_CONTENT, { token: student.token, variables: { id: course.lessonIds[0] } });
    expect(errorCode(content)).toBe('FORBIDDEN');

    // Refunding again changes nothing and is not an error.
    const again = await graphql(url, REFUND_PAYMENT, { token: admin.token, variables: { input: { paymentId: id } } });
    expect(again.data.refundPayment.payment.status).toBe('REFUNDED');
  });

  it('refuses a forged webhook with 400 and changes nothing', async () => {
    const student = await newStudent(url);
    // The delayed method keeps the payment PENDING for the whole test (the delay is 10 minutes).
    const r = await checkout(url, student, course.id, 'pm_card_visa_delayed');
    const id = r.data.checkout.payment.id;
    const forged = JSON.stringify({
      id: `evt_forged_${randomUUID()}`,
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'pi_forged', object: 'payment_intent', status: 'succeeded', amount: 4900, currency: 'eur', metadata: { paymentId: id } } },
    });
    const t = Math.floor(Date.now() / 1000);
    for (const signature of [undefined, `t=${t},v1=${'0'.repeat(64)}`, 'garbage']) {
      const res = await fetch(`${stack.urls.payments}/webhooks/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'campus-signature': signature } : {}) },
        body: forged,
      });
      expect(res.status).toBe(400);
    }
    const after = await graphql(url, PAYMENT, { token: student.token, variables: { id } });
    expect(after.data.payment.status).toBe('PENDING');
    expect(await enrollmentStatus(url, student, course.id)).toBeNull();
  });

  it("does not show a payment to another student, through the router or through _entities", async () => {
    const buyer = await newStudent(url);
    const other = await newStudent(url);
    const r = await checkout(url, buyer, course.id);
    const id = r.data.checkout.payment.id;

    const seen = await graphql(url, PAYMENT, { token: other.token, variables: { id } });
    expect(seen.data?.payment ?? null).toBeNull();
    expect(errorCode(seen)).toBe('FORBIDDEN');
    const anonymous = await graphql(url, PAYMENT, { variables: { id } });
    expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');

    // The buyer's payments list is the buyer's and admins' only.
    const list = await graphql(url, `query($id: ID!) { user(id: $id) { payments { totalCount } } }`, { token: admin.token, variables: { id: buyer.id } });
    expect(list.data.user.payments.totalCount).toBe(1);

    // _entities is an entry point too: the shield still hides the payment's fields.
    const entities = await signedSubgraphRequest(
      `${stack.urls.payments}/graphql`,
      { signer: stack.signers.router, audience: 'payments' },
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Payment { id status amount { amount } } } }`,
      { token: other.token, variables: { r: [{ __typename: 'Payment', id }] } },
    );
    expect(errorCode(entities)).toBe('FORBIDDEN');
    expect(JSON.stringify(entities.data)).not.toContain('4900');
    const asBuyer = await signedSubgraphRequest(
      `${stack.urls.payments}/graphql`,
      { signer: stack.signers.router, audience: 'payments' },
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Payment { id amount { amount } } } }`,
      { token: buyer.token, variables: { r: [{ __typename: 'Payment', id }] } },
    );
    expect(asBuyer.data._entities[0]).toEqual({ id, amount: { amount: 4900 } });
  });

  it('charges the price the course has at checkout and keeps it when the price changes later', async () => {
    const own = await createCourse(url, instructor, { price: { amount: 1500, currency: 'JPY' } });
    const student = await newStudent(url);
    const r = await checkout(url, student, own.id);
    expect(r.data.checkout.payment.amount).toEqual({ amount: 1500, currency: 'JPY' });
    await settled(url, student, r.data.checkout.payment.id, 'SUCCEEDED');

    const changed = await graphql(
      url,
      `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { price { amount } } } }`,
      { token: instructor.token, variables: { input: { courseId: own.id, price: { amount: 9900, currency: 'JPY' } } } },
    );
    expect(changed.data.updateCourse.course.price.amount).toBe(9900);
    const later = await graphql(url, PAYMENT, { token: student.token, variables: { id: r.data.checkout.payment.id } });
    expect(later.data.payment.amount).toEqual({ amount: 1500, currency: 'JPY' });
    expect(later.data.payment.receipt.total).toEqual({ amount: 1500, currency: 'JPY' });
  });

  it('has no way for a client to choose the amount', async () => {
    const student = await newStudent(url);
    const r = await graphql(url, `mutation($input: CheckoutInput!) { checkout(input: $input) { payment { id } } }`, {
      token: student.token,
      variables: { input: { courseId: course.id, paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID(), amount: 1 } },
    });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
  });

  describe('idempotency keys', () => {
    it('returns the same payment for the same key and input, and CONFLICT for the same key with other input', async () => {
      const student = await newStudent(url);
      const key = randomUUID();
      const first = await checkout(url, student, course.id, 'pm_card_visa', key);
      const again = await checkout(url, student, course.id, 'pm_card_visa', key);
      expect(again.data.checkout.payment.id).toBe(first.data.checkout.payment.id);

      const other = await checkout(url, student, course.id, 'pm_card_mastercard', key);
      expect(errorCode(other)).toBe('CONFLICT');
      expect(other.errors![0]!.extensions!.field).toBe('input.idempotencyKey');

      // Another user's key never collides with yours.
      const stranger = await newStudent(url);
      const theirs = await checkout(url, stranger, course.id, 'pm_card_visa', key);
      expect(theirs.data.checkout.payment.id).not.toBe(first.data.checkout.payment.id);
    });

    it('creates exactly one payment when the same checkout is sent many times in parallel', async () => {
      const student = await newStudent(url);
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 8 }, () => checkout(url, student, course.id, 'pm_card_visa', key)));
      for (const r of results) expect(r.errors).toBeUndefined();
      const ids = new Set(results.map((r) => r.data.checkout.payment.id));
      expect(ids.size).toBe(1);
      const mine = await graphql(url, `{ me { payments { totalCount } } }`, { token: student.token });
      expect(mine.data.me.payments.totalCount).toBe(1);
      await settled(url, student, [...ids][0]!, 'SUCCEEDED');
    });

    it('creates one payment when checkouts of the same course race with different keys', async () => {
      const student = await newStudent(url);
      const results = await Promise.all(Array.from({ length: 6 }, () => checkout(url, student, course.id, 'pm_card_visa_delayed')));
      const ok = results.filter((r) => !r.errors);
      expect(ok).toHaveLength(1);
      expect(results.filter((r) => errorCode(r) === 'CONFLICT')).toHaveLength(5);
    });
  });

  describe('what cannot be bought', () => {
    it('refuses a free course, an unpublished one, an unknown one, and bad input, writing nothing', async () => {
      const student = await newStudent(url);
      const free = await createCourse(url, instructor, { price: null });
      const draft = await createCourse(url, instructor, { publish: false });
      expect(errorCode(await checkout(url, student, free.id))).toBe('BAD_USER_INPUT');
      // A draft is hidden from students altogether.
      expect(errorCode(await checkout(url, student, draft.id))).toBe('NOT_FOUND');
      expect(errorCode(await checkout(url, student, randomUUID()))).toBe('NOT_FOUND');
      const badId = await checkout(url, student, 'not-a-uuid');
      expect(badId.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.courseId' });
      const badMethod = await checkout(url, student, course.id, '4242424242424242');
      expect(badMethod.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.paymentMethod' });
      const longKey = await checkout(url, student, course.id, 'pm_card_visa', 'k'.repeat(256));
      expect(longKey.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' });

      const mine = await graphql(url, `{ me { payments { totalCount } } }`, { token: student.token });
      expect(mine.data.me.payments.totalCount).toBe(0);
    });

    it('refuses an unpublished course to its own instructor with BAD_USER_INPUT, and their published course with FORBIDDEN', async () => {
      const draft = await createCourse(url, instructor, { publish: false });
      const r = await checkout(url, instructor, draft.id);
      expect(r.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.courseId' });
      expect(errorCode(await checkout(url, instructor, course.id))).toBe('FORBIDDEN');
    });

    it('refuses a course the student already owns with CONFLICT', async () => {
      const student = await newStudent(url);
      const paid = await checkout(url, student, course.id);
      await settled(url, student, paid.data.checkout.payment.id, 'SUCCEEDED');
      await waitForEnrollment(url, student, course.id, 'ACTIVE');
      expect(errorCode(await checkout(url, student, course.id))).toBe('CONFLICT');
    });

    it('asks anonymous buyers to sign in', async () => {
      const r = await graphql(url, `mutation($input: CheckoutInput!) { checkout(input: $input) { payment { id } } }`, {
        variables: { input: { courseId: course.id, paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID() } },
      });
      expect(errorCode(r)).toBe('UNAUTHENTICATED');
    });
  });

  describe('refunds requested by the buyer', () => {
    it('refunds within the window and progress limit, revoking access', async () => {
      const student = await newStudent(url);
      const paid = await checkout(url, student, course.id);
      const id = paid.data.checkout.payment.id;
      await settled(url, student, id, 'SUCCEEDED');
      await waitForEnrollment(url, student, course.id, 'ACTIVE');

      const other = await newStudent(url);
      expect(errorCode(await graphql(url, REQUEST_REFUND, { token: other.token, variables: { input: { paymentId: id } } }))).toBe('NOT_FOUND');

      const r = await graphql(url, REQUEST_REFUND, { token: student.token, variables: { input: { paymentId: id, reason: 'Not for me' } } });
      expect(r.errors).toBeUndefined();
      await settled(url, student, id, 'REFUNDED');
      await waitForEnrollment(url, student, course.id, 'REVOKED');
    });

    it('refuses a refund once the buyer completed more of the course than the policy allows', async () => {
      const student = await newStudent(url);
      const paid = await checkout(url, student, course.id);
      const id = paid.data.checkout.payment.id;
      await settled(url, student, id, 'SUCCEEDED');
      await waitForEnrollment(url, student, course.id, 'ACTIVE');
      // One of two lessons = 50%, above the default limit of 30%.
      const done = await graphql(url, `mutation($input: CompleteLessonInput!) { completeLesson(input: $input) { enrollment { progress { percent } } } }`, {
        token: student.token,
        variables: { input: { lessonId: course.lessonIds[0] } },
      });
      expect(done.data.completeLesson.enrollment.progress.percent).toBe(50);

      const r = await graphql(url, REQUEST_REFUND, { token: student.token, variables: { input: { paymentId: id } } });
      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(r.errors![0]!.message).toMatch(/50%/);
      const still = await graphql(url, PAYMENT, { token: student.token, variables: { id } });
      expect(still.data.payment).toMatchObject({ status: 'SUCCEEDED', refund: null });
    });

    it('refuses to refund a payment that has not succeeded', async () => {
      const student = await newStudent(url);
      const pending = await checkout(url, student, course.id, 'pm_card_visa_delayed');
      const r = await graphql(url, REQUEST_REFUND, { token: student.token, variables: { input: { paymentId: pending.data.checkout.payment.id } } });
      expect(errorCode(r)).toBe('CONFLICT');
    });
  });

  describe('course sales', () => {
    const SALES = /* GraphQL */ `query($id: ID!) { course(id: $id) { id title sales { count refundedCount revenue { amount currency } } } }`;

    it("show the course's instructor and admins what it sold, net of refunds, and nobody else", async () => {
      const own = await createCourse(url, instructor, { price: { amount: 2000, currency: 'USD' } });
      const buyers = await Promise.all([newStudent(url), newStudent(url), newStudent(url)]);
      const ids: string[] = [];
      for (const b of buyers) {
        const r = await checkout(url, b, own.id);
        ids.push(r.data.checkout.payment.id);
        await settled(url, b, r.data.checkout.payment.id, 'SUCCEEDED');
      }
      await graphql(url, REFUND_PAYMENT, { token: admin.token, variables: { input: { paymentId: ids[0] } } });
      await settled(url, admin, ids[0]!, 'REFUNDED');

      const asInstructor = await graphql(url, SALES, { token: instructor.token, variables: { id: own.id } });
      expect(asInstructor.errors).toBeUndefined();
      expect(asInstructor.data.course.sales).toEqual({ count: 2, refundedCount: 1, revenue: [{ amount: 4000, currency: 'USD' }] });
      const asAdmin = await graphql(url, SALES, { token: admin.token, variables: { id: own.id } });
      expect(asAdmin.data.course.sales.count).toBe(2);

      const asStudent = await graphql(url, SALES, { token: buyers[1]!.token, variables: { id: own.id } });
      expect(errorCode(asStudent)).toBe('FORBIDDEN');
      expect(asStudent.data?.course?.sales ?? null).toBeNull();
      const anonymous = await graphql(url, SALES, { variables: { id: own.id } });
      expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
    });
  });
});
