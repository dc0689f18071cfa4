/**
 * The payments subgraph's subscriptions over graphql-ws, talking to the subgraph itself (signed
 * upgrade, as the router connects) with real tokens: paymentUpdated for the buyer and admins only,
 * myPaymentUpdates filtered to the viewer. Changes come from real checkouts through the router.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, signedUpgradeHeaders, waitFor, type WsConnection } from '@campus/test-kit';
import { startTestStack, type TestStack } from '../src/testing.ts';
import { checkout, createCourse, logInAs, newStudent, settled, type Account, type PaidCourse } from './payments-helpers.ts';

const PAYMENT_UPDATED = /* GraphQL */ `
  subscription($id: ID!) { paymentUpdated(id: $id) { id status failureReason amount { amount currency } receipt { number } } }
`;
const MY_PAYMENT_UPDATES = /* GraphQL */ `subscription { myPaymentUpdates { id status } }`;

describe('payment subscriptions on the payments subgraph', () => {
  let stack: TestStack;
  let url: string;
  let admin: Account;
  let course: PaidCourse;
  const open: WsConnection[] = [];

  const subgraphUrl = () => `${stack.urls.payments}/graphql`;
  const connect = async (who?: Account) => {
    const ws = await connectWs(subgraphUrl(), { headers: signedUpgradeHeaders(subgraphUrl(), { signer: stack.signers.router, audience: 'payments' }, who?.token) });
    open.push(ws);
    return ws;
  };

  beforeAll(async () => {
    stack = await startTestStack({ env: { PAYMENTS_SANDBOX_DELAY_MS: '1000' } });
    url = stack.routerUrl;
    const instructor = await logInAs(url, 'INSTRUCTOR');
    admin = await logInAs(url, 'ADMIN');
    course = await createCourse(url, instructor);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((ws) => ws.close()));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('sends the buyer the current state, then PENDING -> SUCCEEDED as the payment completes', async () => {
    const buyer = await newStudent(url);
    const r = await checkout(url, buyer, course.id, 'pm_card_visa_delayed');
    const id = r.data.checkout.payment.id;

    const sub = (await connect(buyer)).subscribe(PAYMENT_UPDATED, { id });
    const first = await sub.nth(0);
    expect(first.errors).toBeUndefined();
    expect(first.data!.paymentUpdated).toMatchObject({ id, status: 'PENDING', amount: { amount: 4900, currency: 'EUR' }, receipt: null });
    const second = await sub.nth(1);
    // Each event is resolved afresh: the receipt issued with the success is there.
    expect(second.data!.paymentUpdated).toMatchObject({ id, status: 'SUCCEEDED', receipt: { number: expect.stringMatching(/^R-/) } });
  });

  it('lets an admin watch any payment, and sends a declined payment with its reason', async () => {
    const buyer = await newStudent(url);
    const r = await checkout(url, buyer, course.id, 'pm_card_chargeDeclined');
    const id = r.data.checkout.payment.id;
    await settled(url, buyer, id, 'FAILED');
    const sub = (await connect(admin)).subscribe(PAYMENT_UPDATED, { id });
    expect((await sub.nth(0)).data!.paymentUpdated).toMatchObject({ status: 'FAILED', failureReason: 'Your card was declined.' });
  });

  it('refuses another student (FORBIDDEN) and an anonymous subscriber (UNAUTHENTICATED)', async () => {
    const buyer = await newStudent(url);
    const r = await checkout(url, buyer, course.id, 'pm_card_visa_delayed');
    const id = r.data.checkout.payment.id;

    const other = await newStudent(url);
    const theirs = (await connect(other)).subscribe(PAYMENT_UPDATED, { id });
    const refused = await theirs.nth(0);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.data ?? null).toBeNull();

    const anonymous = (await connect()).subscribe(PAYMENT_UPDATED, { id });
    expect((await anonymous.nth(0)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const anonymousMine = (await connect()).subscribe(MY_PAYMENT_UPDATES);
    expect((await anonymousMine.nth(0)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    // The buyer's own subscription still sees it through, and the other student received nothing.
    await settled(url, buyer, id, 'SUCCEEDED');
    expect(theirs.results).toHaveLength(1);
  });

  it("sends myPaymentUpdates the viewer's own payments only", async () => {
    const me = await newStudent(url);
    const someoneElse = await newStudent(url);
    const mine = (await connect(me)).subscribe(MY_PAYMENT_UPDATES);
    const theirs = (await connect(someoneElse)).subscribe(MY_PAYMENT_UPDATES);
    // The subscriptions are live once the subgraph holds them open.
    await waitFor(() => stack.services.payments!.server.liveSubscriptions().subscriptions >= 2, 'both subscriptions to be live', 15_000);

    // The delayed method leaves a second between PENDING and SUCCEEDED, so both are sent.
    const r = await checkout(url, me, course.id, 'pm_card_visa_delayed');
    const id = r.data.checkout.payment.id;
    await settled(url, me, id, 'SUCCEEDED');
    await waitFor(() => mine.results.some((x) => x.data?.myPaymentUpdates?.status === 'SUCCEEDED'), 'the success', 15_000);
    const statuses = mine.results.map((x) => x.data!.myPaymentUpdates);
    expect(statuses.every((p) => p.id === id)).toBe(true);
    expect(statuses.map((p) => p.status)).toEqual(['PENDING', 'SUCCEEDED']);
    expect(theirs.results).toHaveLength(0);
  });

  it('releases the subscription on the subgraph when the client unsubscribes', async () => {
    const buyer = await newStudent(url);
    const r = await checkout(url, buyer, course.id, 'pm_card_visa_delayed');
    const before = stack.services.payments!.server.liveSubscriptions().subscriptions;
    const sub = (await connect(buyer)).subscribe(PAYMENT_UPDATED, { id: r.data.checkout.payment.id });
    await sub.nth(0);
    await waitFor(() => stack.services.payments!.server.liveSubscriptions().subscriptions === before + 1, 'the subscription to be live', 15_000);
    sub.unsubscribe();
    await waitFor(() => stack.services.payments!.server.liveSubscriptions().subscriptions === before, 'the subscription to be released', 15_000);
  });
});
