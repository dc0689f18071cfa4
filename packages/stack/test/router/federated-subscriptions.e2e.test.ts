/**
 * Subscriptions whose selection spans subgraphs, end to end through the router: the primary
 * subscription runs on the owning subgraph (payments, courses) and every event is completed with
 * entity fetches on the others (users, courses), as the query planner planned it.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { connectWs, graphql, logIn, waitFor, within, type WsConnection } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const PAYMENT_UPDATED = /* GraphQL */ `
  subscription Watch($id: ID!) {
    paymentUpdated(id: $id) { status amount { amount currency } user { name } course { title instructor { name } } }
  }
`;
const MY_PAYMENT_UPDATES = 'subscription { myPaymentUpdates { id status } }';
const CHECKOUT = /* GraphQL */ `
  mutation Buy($input: CheckoutInput!) { checkout(input: $input) { payment { id status } } }
`;
const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken user { id name } } }
`;
const instructor = DEMO_ACCOUNTS[1];

/** Consecutive duplicates collapsed: a payment may be re-sent unchanged in status. */
const transitions = (statuses: string[]) => statuses.filter((s, i) => s !== statuses[i - 1]);

describe('subscriptions across subgraphs', () => {
  let stack: TestStack;
  let url: string;
  const open: WsConnection[] = [];
  let counter = 0;

  const connect = async (token?: string) => {
    const c = await connectWs(url, { token });
    open.push(c);
    return c;
  };
  const student = async () => {
    const n = ++counter;
    const r = await graphql(url, SIGN_UP, { variables: { input: { email: `buyer-${randomUUID()}@campus.test`, password: 'long-enough-pw', name: `Buyer ${n}` } } });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return r.data.signUp as { accessToken: string; user: { id: string; name: string } };
  };
  const paidCourse = async () => {
    const r = await graphql(url, '{ courses(first: 50, filter: { isFree: false }) { edges { node { id title price { amount currency } instructor { name } } } } }');
    const course = r.data?.courses.edges[0]?.node;
    if (!course) throw new Error(`no paid course in the seed: ${JSON.stringify(r.errors)}`);
    return course as { id: string; title: string; price: { amount: number; currency: string }; instructor: { name: string } };
  };

  beforeAll(async () => {
    stack = await sharedTestStack();
    url = stack.routerUrl;
    // The worker's shared stack: subscriptions earlier files opened must be gone before these counts mean anything.
    await waitFor(
      () => stack.services.payments!.server.liveSubscriptions().subscriptions === 0 && stack.services.courses!.server.liveSubscriptions().subscriptions === 0,
      'the subscriptions of earlier files on the shared stack to end',
    );
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it('streams a payment from PENDING to SUCCEEDED with its buyer and course from the other subgraphs, to the buyer only', async () => {
    const [buyer, other] = [await student(), await student()];
    const course = await paidCourse();
    const otherFeed = (await connect(other.accessToken)).subscribe(MY_PAYMENT_UPDATES);
    await waitFor(() => stack.services.payments!.server.liveSubscriptions().subscriptions === 1, "the other student's feed to be live");

    // The sandbox reports pm_card_visa_delayed's success a few seconds later, like a slow bank.
    const bought = await graphql(url, CHECKOUT, {
      token: buyer.accessToken,
      variables: { input: { courseId: course.id, paymentMethod: 'pm_card_visa_delayed', idempotencyKey: randomUUID() } },
    });
    expect(bought.errors).toBeUndefined();
    const paymentId = bought.data.checkout.payment.id as string;

    const watch = (await connect(buyer.accessToken)).subscribe(PAYMENT_UPDATED, { id: paymentId }, 'Watch');
    const snooper = (await connect(other.accessToken)).subscribe(PAYMENT_UPDATED, { id: paymentId }, 'Watch');

    await waitFor(() => watch.results.some((r) => r.data?.paymentUpdated?.status === 'SUCCEEDED'), 'the payment to succeed', 30_000);
    expect(watch.results.every((r) => !r.errors)).toBe(true);
    expect(transitions(watch.results.map((r) => r.data.paymentUpdated.status))).toEqual(['PENDING', 'SUCCEEDED']);
    expect(watch.results.at(-1)!.data.paymentUpdated).toEqual({
      status: 'SUCCEEDED',
      amount: course.price,
      user: { name: buyer.user.name },
      course: { title: course.title, instructor: { name: course.instructor.name } },
    });

    // Another student may not watch someone else's payment...
    const refused = await snooper.nth(0);
    expect(refused.data ?? null).toBeNull();
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(refused.errors?.[0]?.extensions?.code);
    await within(snooper.ended, 5_000, 'the refused subscription to end');
    // ...and their own feed carries only their own payments: their purchase arrives, the buyer's never did.
    await graphql(url, CHECKOUT, {
      token: other.accessToken,
      variables: { input: { courseId: course.id, paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID() } },
    });
    await otherFeed.nth(0, 30_000);
    expect(otherFeed.results.map((r) => r.data.myPaymentUpdates.id)).not.toContain(paymentId);
  });

  it('delivers a course update, with its instructor from the users subgraph, to 100 concurrent subscribers', async () => {
    const { accessToken } = await logIn(url, instructor.email, DEMO_PASSWORD);
    const mine = await graphql(url, 'query Mine($id: ID!) { courses(first: 1, filter: { instructorId: $id }) { edges { node { id } } } }', {
      variables: { id: instructor.id },
    });
    const courseId = mine.data.courses.edges[0].node.id as string;

    const connections = await Promise.all(Array.from({ length: 100 }, () => connect()));
    const subs = connections.map((c) =>
      c.subscribe('subscription Course($id: ID!) { courseUpdated(id: $id) { id title instructor { name } } }', { id: courseId }, 'Course'),
    );
    // Anonymous and identical: one upstream subscription serves them all (shared-subscriptions.ts in the router).
    await waitFor(
      () => stack.router.subscriptionStats().subscriptions === 100 && stack.services.courses!.server.liveSubscriptions().subscriptions === 1,
      '100 courseUpdated subscriptions on one upstream',
    );

    const title = `Live title ${randomUUID().slice(0, 8)}`;
    const updated = await graphql(url, 'mutation U($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }', {
      token: accessToken,
      variables: { input: { courseId, title } },
    });
    expect(updated.errors).toBeUndefined();

    const received = await Promise.all(
      subs.map(async (s) => {
        await waitFor(() => s.results.some((r) => r.data?.courseUpdated?.title === title), 'the update', 30_000);
        return s.results.find((r) => r.data?.courseUpdated?.title === title)!;
      }),
    );
    expect(received).toHaveLength(100);
    for (const r of received) expect(r).toEqual({ data: { courseUpdated: { id: courseId, title, instructor: { name: instructor.name } } } });
  });
});
