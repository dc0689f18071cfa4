/**
 * Client-side steps the payments end-to-end tests share: accounts, a paid course of one's own,
 * checkout, and waiting for a payment to settle. Everything goes through the router.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { graphql, logIn, waitFor } from '@campus/test-kit';

export const PAYMENT_FIELDS = /* GraphQL */ `
  id status failureReason failureCode courseTitle createdAt paidAt refundedAt
  amount { amount currency }
  paymentMethod { brand last4 }
  refund { status reason }
  receipt { number buyerName buyerEmail description total { amount currency } paymentMethod { brand last4 } }
`;

export const CHECKOUT = /* GraphQL */ `
  mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { payment { ${PAYMENT_FIELDS} } } }
`;
export const PAYMENT = /* GraphQL */ `
  query Payment($id: ID!) { payment(id: $id) { ${PAYMENT_FIELDS} } }
`;
export const REQUEST_REFUND = /* GraphQL */ `
  mutation RequestRefund($input: RequestRefundInput!) { requestRefund(input: $input) { payment { id status refund { status reason } } } }
`;
export const REFUND_PAYMENT = /* GraphQL */ `
  mutation RefundPayment($input: RefundPaymentInput!) { refundPayment(input: $input) { payment { id status refund { status reason } } } }
`;
export const LESSON_CONTENT = /* GraphQL */ `
  query Lesson($id: ID!) { lesson(id: $id) { id title content } }
`;
export const MY_ENROLLMENT = /* GraphQL */ `
  query Course($id: ID!) { course(id: $id) { id viewerEnrollment { status source } } }
`;

export interface Account {
  id: string;
  token: string;
}

export async function logInAs(routerUrl: string, role: 'ADMIN' | 'INSTRUCTOR' | 'STUDENT'): Promise<Account> {
  const account = DEMO_ACCOUNTS.find((a) => a.role === role)!;
  const session = await logIn(routerUrl, account.email, DEMO_PASSWORD);
  return { id: session.user.id, token: session.accessToken };
}

/** A fresh student for each test, so tests never see each other's purchases. */
export async function newStudent(routerUrl: string, name = 'Test Student'): Promise<Account> {
  const r = await graphql(
    routerUrl,
    `mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }`,
    { variables: { input: { email: `buyer-${randomUUID()}@campus.test`, password: 'correct horse battery', name } } },
  );
  if (!r.data?.signUp) throw new Error(`signUp failed: ${JSON.stringify(r.errors)}`);
  return { id: r.data.signUp.user.id, token: r.data.signUp.accessToken };
}

export interface PaidCourse {
  id: string;
  title: string;
  lessonIds: string[];
}

/** A course of the instructor's: `lessons` lessons (none preview), price as given, published unless told otherwise. */
export async function createCourse(
  routerUrl: string,
  instructor: Account,
  options: { price?: { amount: number; currency: string } | null; lessons?: number; publish?: boolean } = {},
): Promise<PaidCourse> {
  const title = `Course ${randomUUID().slice(0, 8)}`;
  const price = options.price === undefined ? { amount: 4900, currency: 'EUR' } : options.price;
  const created = await graphql(
    routerUrl,
    `mutation Create($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }`,
    { token: instructor.token, variables: { input: { title, description: 'What you will learn.', category: 'DEVELOPMENT', price } } },
  );
  const id: string | undefined = created.data?.createCourse?.course.id;
  if (!id) throw new Error(`createCourse failed: ${JSON.stringify(created.errors)}`);
  const lessonIds: string[] = [];
  for (let i = 0; i < (options.lessons ?? 2); i++) {
    const lesson = await graphql(
      routerUrl,
      `mutation Add($input: AddLessonInput!) { addLesson(input: $input) { lesson { id } } }`,
      { token: instructor.token, variables: { input: { courseId: id, title: `Lesson ${i + 1}`, content: `The content of lesson ${i + 1}.`, duration: 300 } } },
    );
    if (!lesson.data?.addLesson) throw new Error(`addLesson failed: ${JSON.stringify(lesson.errors)}`);
    lessonIds.push(lesson.data.addLesson.lesson.id);
  }
  if (options.publish !== false) {
    const published = await graphql(
      routerUrl,
      `mutation Publish($input: PublishCourseInput!) { publishCourse(input: $input) { course { status } } }`,
      { token: instructor.token, variables: { input: { courseId: id } } },
    );
    if (published.data?.publishCourse?.course.status !== 'PUBLISHED') throw new Error(`publishCourse failed: ${JSON.stringify(published.errors)}`);
  }
  return { id, title, lessonIds };
}

export function checkout(routerUrl: string, buyer: Account, courseId: string, paymentMethod = 'pm_card_visa', idempotencyKey: string = randomUUID()) {
  return graphql(routerUrl, CHECKOUT, { token: buyer.token, variables: { input: { courseId, paymentMethod, idempotencyKey } } });
}

/** Polls the payment through the router until it has `status`; returns it. */
export async function settled(routerUrl: string, who: Account, paymentId: string, status: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const r = await graphql(routerUrl, PAYMENT, { token: who.token, variables: { id: paymentId } });
      return r.data?.payment?.status === status ? r.data.payment : undefined;
    },
    `payment ${paymentId} to be ${status}`,
    timeoutMs,
  );
}

/** The viewer's enrollment status in a course (null when none), as the courses service says. */
export async function enrollmentStatus(routerUrl: string, who: Account, courseId: string): Promise<string | null> {
  const r = await graphql(routerUrl, MY_ENROLLMENT, { token: who.token, variables: { id: courseId } });
  return r.data?.course?.viewerEnrollment?.status ?? null;
}

export function waitForEnrollment(routerUrl: string, who: Account, courseId: string, status: string, timeoutMs = 15_000) {
  return waitFor(async () => (await enrollmentStatus(routerUrl, who, courseId)) === status, `enrollment ${status} in ${courseId}`, timeoutMs);
}
