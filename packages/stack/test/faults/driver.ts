/**
 * Drives purchases through the router while faults are injected one after another
 * (docs/payments.md for checkout, idempotency and refunds). Buyers are real accounts signed up
 * through the router; every course is bought at most once per buyer, with one idempotency key, so a
 * second payment for a (buyer, course) can only come from a retry that was not recognised.
 *
 * The mix, by purchase index: a fifth declined, a fifth delayed successes, the rest immediate
 * successes; every fourth purchase refunded by its buyer once it succeeded (when its card succeeds);
 * a third of the purchases sent again with the same key, either three times at once or after the
 * next fault. Faults start at milestones of the traffic (after
 * 1/7, 2/7, ... of the purchases have started), so there is traffic before, during and after each.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { logIn } from '@campus/test-kit';
import { createCourse } from '../payments-helpers.ts';
import { RetryingClient, type Account, type Answer } from './client.ts';
import { injectFault, type FaultKind, type FaultTargets, type InjectedFault } from './faults.ts';

export type Method = 'pm_card_visa' | 'pm_card_chargeDeclined' | 'pm_card_visa_delayed';
export type Resend = 'none' | 'concurrent' | 'after-fault';

export interface CheckoutAnswer {
  /** The payment id answered, or the error code of a definitive refusal. */
  paymentId?: string;
  error?: string;
  /** The first send of the purchase, a copy sent at the same time, or a resend after a fault. */
  send: 'first' | 'concurrent' | 'after-fault';
  /** Requests it took (more than one when earlier ones got no answer). */
  attempts: number;
}

export interface Purchase {
  index: number;
  buyer: Account;
  courseId: string;
  method: Method;
  key: string;
  refund: boolean;
  resend: Resend;
  answers: CheckoutAnswer[];
  /** Sends that got no answer before their deadline. */
  unanswered: number;
  /** What asking for the refund gave: requested, a refusal code, or why it was not asked. */
  refundOutcome?: string;
}

export interface ScenarioOptions {
  routerUrl: string;
  targets: FaultTargets;
  faults: FaultKind[];
  buyers: number;
  courses: number;
  /** Least time between the starts of two purchases, so traffic spans the faults. */
  gapMs: number;
  /** Most purchases in flight at once (concurrent buyers). */
  concurrency: number;
  /** How long a refund waits for its payment to succeed before giving up. */
  settleTimeoutMs: number;
  /** Aborted when the suite ends early (a fault that could not be repaired): the traffic stops. */
  signal?: AbortSignal;
}

export interface ScenarioResult {
  purchases: Purchase[];
  faults: InjectedFault[];
  client: RetryingClient;
  courseIds: string[];
  buyers: Account[];
  /** Date.now() when the last fault was over (its process or server back and ready). */
  lastFaultRecoveredAt: number;
  /** Date.now() when the last client call of the traffic was answered. */
  trafficEndedAt: number;
  startedAt: number;
}

const CHECKOUT = /* GraphQL */ `
  mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { payment { id status } } }
`;
const PAYMENT_STATUS = /* GraphQL */ `query Payment($id: ID!) { payment(id: $id) { id status } }`;
const REQUEST_REFUND = /* GraphQL */ `
  mutation RequestRefund($input: RequestRefundInput!) { requestRefund(input: $input) { payment { id status } } }
`;
const SIGN_UP = 'mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The plan for purchase `i`: deterministic, so two runs exercise the same mix. */
export function planOf(i: number): { method: Method; refund: boolean; resend: Resend } {
  const m = i % 10;
  const method: Method = m === 0 || m === 5 ? 'pm_card_chargeDeclined' : m === 2 || m === 7 ? 'pm_card_visa_delayed' : 'pm_card_visa';
  // Every fourth purchase, unless its card is declined.
  const refund = method !== 'pm_card_chargeDeclined' && i % 4 === 1;
  const r = i % 6;
  const resend: Resend = r === 1 ? 'concurrent' : r === 4 ? 'after-fault' : 'none';
  return { method, refund, resend };
}

async function signUpBuyers(client: RetryingClient, n: number): Promise<Account[]> {
  const buyers: Account[] = [];
  for (let i = 0; i < n; i++) {
    const email = `faults-${randomUUID()}@campus.test`;
    const password = 'correct horse battery';
    const r = await client.call(`signUp ${i}`, SIGN_UP, { input: { email, password, name: `Fault Buyer ${i}` } });
    if (!r?.data?.signUp) throw new Error(`signUp failed: ${JSON.stringify(r?.errors)}`);
    buyers.push({ id: r.data.signUp.user.id, email, password, token: r.data.signUp.accessToken });
  }
  return buyers;
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { routerUrl } = options;
  const client = new RetryingClient(routerUrl, 60_000, options.signal);

  // Set-up before any fault: the courses on sale and the buyers.
  const instructorAccount = DEMO_ACCOUNTS.find((a) => a.role === 'INSTRUCTOR')!;
  const session = await logIn(routerUrl, instructorAccount.email, DEMO_PASSWORD);
  const instructor = { id: session.user.id, token: session.accessToken };
  const courseIds: string[] = [];
  for (let c = 0; c < options.courses; c++) courseIds.push((await createCourse(routerUrl, instructor, { lessons: 1 })).id);
  const buyers = await signUpBuyers(client, options.buyers);

  // Round robin over buyers, each buyer walking the courses in an order of its own.
  const purchases: Purchase[] = [];
  for (let c = 0; c < options.courses; c++) {
    for (let b = 0; b < options.buyers; b++) {
      const index = purchases.length;
      const courseId = courseIds[(c + b) % options.courses]!;
      purchases.push({ index, buyer: buyers[b]!, courseId, key: randomUUID(), answers: [], unanswered: 0, ...planOf(index) });
    }
  }

  const startedAt = Date.now();
  let lastAnsweredAt = startedAt;
  const record = (p: Purchase, send: CheckoutAnswer['send'], r: Answer | undefined) => {
    if (!r) {
      p.unanswered += 1;
      return;
    }
    lastAnsweredAt = Date.now();
    const paymentId = r.data?.checkout?.payment?.id as string | undefined;
    p.answers.push(paymentId ? { paymentId, send, attempts: r.attempts } : { error: String(r.errors?.[0]?.extensions?.code ?? 'NO_DATA'), send, attempts: r.attempts });
  };
  const sendCheckout = (p: Purchase, send: CheckoutAnswer['send']) =>
    client
      .call(`checkout #${p.index} (${send})`, CHECKOUT, { input: { courseId: p.courseId, paymentMethod: p.method, idempotencyKey: p.key } }, p.buyer)
      .then((r) => record(p, send, r));

  const waitUntilSettled = async (p: Purchase, paymentId: string): Promise<string | undefined> => {
    const deadline = Date.now() + options.settleTimeoutMs;
    while (Date.now() < deadline && !options.signal?.aborted) {
      const r = await client.call(`payment #${p.index}`, PAYMENT_STATUS, { id: paymentId }, p.buyer);
      const status = r?.data?.payment?.status as string | undefined;
      if (status && status !== 'PENDING') return status;
      await sleep(300);
    }
    return undefined;
  };

  const afterFault: Purchase[] = [];
  const resends: Promise<void>[] = [];

  const runPurchase = async (p: Purchase) => {
    const sends = [sendCheckout(p, 'first')];
    // Copies with the same key while the first is in flight: a double click, a retry on a timeout.
    if (p.resend === 'concurrent') sends.push(sendCheckout(p, 'concurrent'), sendCheckout(p, 'concurrent'));
    await Promise.all(sends);
    if (p.resend === 'after-fault') afterFault.push(p);
    const paymentId = p.answers.find((a) => a.paymentId)?.paymentId;
    if (!p.refund || !paymentId) return;
    const status = await waitUntilSettled(p, paymentId);
    if (status !== 'SUCCEEDED') {
      p.refundOutcome = status ? `not asked: payment ${status}` : 'not asked: payment still PENDING';
      return;
    }
    const r = await client.call(`requestRefund #${p.index}`, REQUEST_REFUND, { input: { paymentId, reason: 'fault suite' } }, p.buyer);
    if (r) lastAnsweredAt = Date.now();
    p.refundOutcome = !r ? 'unanswered' : r.data?.requestRefund ? 'requested' : String(r.errors?.[0]?.extensions?.code ?? 'NO_DATA');
  };

  // Traffic: purchases start at most every gapMs, at most `concurrency` at a time.
  let started = 0;
  let inFlight = 0;
  const running: Promise<void>[] = [];
  const traffic = (async () => {
    for (const p of purchases) {
      if (options.signal?.aborted) break;
      while (inFlight >= options.concurrency) await sleep(20);
      inFlight += 1;
      started += 1;
      running.push(runPurchase(p).finally(() => (inFlight -= 1)));
      await sleep(options.gapMs);
    }
    await Promise.all(running);
  })();

  // Faults, one after another, each at its milestone of the traffic and after the previous one is over.
  const faults: InjectedFault[] = [];
  let lastFaultRecoveredAt = startedAt;
  const injector = (async () => {
    for (const [k, kind] of options.faults.entries()) {
      const milestone = Math.floor(((k + 1) * purchases.length) / (options.faults.length + 1));
      while (started < milestone) {
        if (options.signal?.aborted) return;
        await sleep(50);
      }
      const at = Date.now() - startedAt;
      const inFlightAtStart = inFlight;
      const { downMs, detail } = await injectFault(kind, options.targets);
      lastFaultRecoveredAt = Date.now();
      faults.push({ kind, at, downMs, inFlight: inFlightAtStart, ...(detail ? { detail } : {}) });
      // Purchases answered before this fault are sent again now, with their key.
      for (const p of afterFault.splice(0)) resends.push(sendCheckout(p, 'after-fault'));
    }
  })();

  await Promise.all([traffic, injector]);
  // Those answered after the last fault are sent again once the traffic is over.
  for (const p of afterFault.splice(0)) resends.push(sendCheckout(p, 'after-fault'));
  await Promise.all(resends);

  return { purchases, faults, client, courseIds, buyers, lastFaultRecoveredAt, trafficEndedAt: lastAnsweredAt, startedAt };
}
