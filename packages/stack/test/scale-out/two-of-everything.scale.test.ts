/**
 * Two instances of anything behave like one (docs/testing.md, "Three slower suites"): two routers
 * and two instances of each subgraph, each its own process running the compiled build
 * (`node dist/index.js`, docs/builds.md), on shared PostgreSQL databases and one Redis. The process
 * stack (packages/stack/src/process-stack.ts, `instances: 2`) wires them in two lanes: router A
 * reaches users#1, courses#1 and payments#1 only, router B the #2s, and payments#2 asks courses#2
 * and users#2. Whatever must hold across instances can then only travel through PostgreSQL and
 * Redis, as between replicas behind a load balancer: live updates, idempotency keys, the outbox
 * relays, rate-limit counters, login throttling, session revocations; and one lane going down
 * leaves the other serving.
 *
 * Run with `npm run test:scale-out` (a build, then vitest.scale.config.ts), which .ci/run does.
 * Skipped without TEST_DATABASE_URL and TEST_REDIS_URL.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { createRequestSigner } from '@campus/kit/identity';
import { connectWs, errorCode, graphql, LOG_IN, logIn, postRaw, signSubgraphRequest, waitFor, within, type GraphQLResponse, type WsConnection } from '@campus/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_EVENT_GRACE_MS } from '@campus/router/subscriptions/session-guard';
import { processStackAvailable, startProcessStack, type ProcessStack } from '../../src/process-stack.ts';
import { checkout, createCourse, PAYMENT, REQUEST_REFUND, settled, waitForEnrollment, type Account, type PaidCourse } from '../payments-helpers.ts';
import { deleteRedisKeys, metric, sql, streamConsumers, streamEventIds } from './observe.ts';

/**
 * RATE_LIMIT_PER_USER: the general budget of one signed-in user per window, on both routers
 * together. High enough that the other tests' polling (waitFor asks every 20 ms, for as long as a
 * delayed card takes to settle) never spends it: at 60 the last test's buyer was refused while it
 * waited for its payment. Only the rate-limit test spends it, alternating routers.
 */
const USER_BUDGET = 600;
/** LOGIN_MAX_FAILURES: failed logins of one account before it is locked out (users' database). */
const LOGIN_FAILURES = 3;
/** Parallel checkouts with one idempotency key, half through each router. */
const SAME_KEY_CHECKOUTS = 16;
/** Purchases whose events both outbox relays and both courses consumers compete for. */
const PURCHASES = 20;

const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id } } }';
const LOG_OUT = 'mutation($t: String!) { logOut(input: { refreshToken: $t }) { success } }';
const ME = '{ me { id } }';
const CATALOG = '{ courses(first: 5) { edges { node { id title instructor { name } } } } }';
const UPDATE_COURSE = 'mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { id title } } }';
const COURSE_UPDATED = 'subscription($id: ID!) { courseUpdated(id: $id) { id title } }';
const PAYMENT_UPDATED = 'subscription($id: ID!) { paymentUpdated(id: $id) { id status refund { status } } }';
const SESSION_EVENTS = 'subscription { mySessionEvents { reason reauthenticate } }';
const MUTATIONS = { operation_type: 'mutation' };

interface Buyer extends Account {
  email: string;
  password: string;
  refreshToken: string;
}

describe.skipIf(!processStackAvailable())('two instances of everything behave like one', () => {
  let stack: ProcessStack;
  let routerA: string;
  let routerB: string;
  let instructor: Account;
  let course: PaidCourse;
  const sockets: WsConnection[] = [];

  const signUp = async (routerUrl: string): Promise<Buyer> => {
    const email = `scale-${randomUUID()}@campus.test`;
    const password = 'correct horse battery';
    const r = await graphql(routerUrl, SIGN_UP, { variables: { input: { email, password, name: 'Scale Buyer' } } });
    if (!r.data?.signUp) throw new Error(`signUp failed: ${JSON.stringify(r.errors)}`);
    return { id: r.data.signUp.user.id, token: r.data.signUp.accessToken, refreshToken: r.data.signUp.refreshToken, email, password };
  };
  const connect = async (routerUrl: string, token?: string) => {
    const c = await connectWs(routerUrl, { token });
    sockets.push(c);
    return c;
  };
  /** A subgraph instance's count of GraphQL mutations it answered (campus_graphql_requests_total). */
  const mutationsServed = (name: 'users' | 'courses' | 'payments', instance: number) => metric(stack.instanceUrls[name][instance]!, 'campus_graphql_requests_total', MUTATIONS);

  beforeAll(async () => {
    stack = await startProcessStack({
      instances: 2,
      compiled: true,
      databaseLabel: 'campus_scale',
      env: {
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        // Every client here is 127.0.0.1: only the per-user budget is the one under test.
        RATE_LIMIT_PER_ADDRESS: '1000000',
        RATE_LIMIT_STRICT_PER_ADDRESS: '1000000',
        RATE_LIMIT_PER_USER: String(USER_BUDGET),
        // One buyer sends SAME_KEY_CHECKOUTS checkouts (strict class) at once.
        RATE_LIMIT_STRICT_PER_USER: '1000',
        LOGIN_MAX_FAILURES: String(LOGIN_FAILURES),
        // Entries a killed courses#1 held are handed to courses#2 after this (docs/delivery.md).
        EVENTS_RETRY_AFTER_MS: '500',
      },
      // Both relays poll often, so each also looks for the rows the other instance committed.
      processEnv: { payments: { PAYMENTS_POLL_INTERVAL_MS: '100' } },
    });
    [routerA, routerB] = stack.routerUrls as [string, string];
    const account = DEMO_ACCOUNTS.find((a) => a.role === 'INSTRUCTOR')!;
    const session = await logIn(routerA, account.email, DEMO_PASSWORD);
    instructor = { id: session.user.id, token: session.accessToken };
    course = await createCourse(routerA, instructor, { lessons: 1 });
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    try {
      await stack?.close();
    } finally {
      // The prefix of every key this stack wrote (events, pub/sub, rate limits, revocations).
      if (stack?.env.REDIS_PUBSUB_PREFIX && stack.env.REDIS_URL) await deleteRedisKeys(stack.env.REDIS_URL, stack.env.REDIS_PUBSUB_PREFIX);
    }
  });

  it('runs two lanes of compiled processes: each router reaches only its own instances', async () => {
    for (const name of ['users#1', 'courses#1', 'payments#1', 'router#1', 'users#2', 'courses#2', 'payments#2', 'router#2'] as const) {
      expect(stack.pid(name), name).toBeTypeOf('number');
    }
    const before = await Promise.all([mutationsServed('courses', 0), mutationsServed('courses', 1)]);
    const r = await graphql(routerB, UPDATE_COURSE, { token: instructor.token, variables: { input: { courseId: course.id, subtitle: 'Through router B' } } });
    expect(r.errors).toBeUndefined();
    expect(await Promise.all([mutationsServed('courses', 0), mutationsServed('courses', 1)])).toEqual([before[0], before[1]! + 1]);
  });

  it('delivers to a subscription on router A what a mutation through router B changed', async () => {
    // courseUpdated sends nothing on subscribing: an update is sent through B until A hears one,
    // which only comes once courses#1 listens on Redis. Each title is new, so whatever A hears
    // was written through B.
    const watch = (await connect(routerA)).subscribe(COURSE_UPDATED, { id: course.id });
    const titles: string[] = [];
    await waitFor(
      async () => {
        const title = `Scale-out ${titles.length + 1}`;
        titles.push(title);
        const r = await graphql(routerB, UPDATE_COURSE, { token: instructor.token, variables: { input: { courseId: course.id, title } } });
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        return watch.nth(0, 500).then(
          () => true,
          () => false,
        );
      },
      'router A to hear an update made through router B',
      { timeoutMs: 15_000, intervalMs: 0 },
    );
    expect(titles).toContain(watch.results[0]!.data?.courseUpdated.title);

    // The same for payments: a refund asked for through B (payments#2 publishes the change as it
    // commits the refund, before asking the provider), watched through A and payments#1.
    const buyer = await signUp(routerB);
    const bought = await checkout(routerB, buyer, course.id);
    expect(bought.errors).toBeUndefined();
    const paymentId: string = bought.data.checkout.payment.id;
    await settled(routerB, buyer, paymentId, 'SUCCEEDED');
    const payment = (await connect(routerA, buyer.token)).subscribe(PAYMENT_UPDATED, { id: paymentId });
    // The current state first, sent once payments#1 listens.
    expect((await payment.nth(0, 5_000)).data?.paymentUpdated).toEqual({ id: paymentId, status: 'SUCCEEDED', refund: null });
    const refund = await graphql(routerB, REQUEST_REFUND, { token: buyer.token, variables: { input: { paymentId, reason: 'scale-out' } } });
    expect(refund.errors).toBeUndefined();
    expect((await payment.nth(1, 5_000)).data?.paymentUpdated.refund).not.toBeNull();
  });

  it(`makes one payment of ${SAME_KEY_CHECKOUTS} parallel checkouts with one key spread over both payments instances`, async () => {
    const buyer = await signUp(routerA);
    const key = randomUUID();
    const before = await Promise.all([mutationsServed('payments', 0), mutationsServed('payments', 1)]);
    const answers = await Promise.all(
      Array.from({ length: SAME_KEY_CHECKOUTS }, (_, i) => checkout(i % 2 === 0 ? routerA : routerB, buyer, course.id, 'pm_card_visa', key)),
    );
    const after = await Promise.all([mutationsServed('payments', 0), mutationsServed('payments', 1)]);
    // Half went to each instance (routers do not retry mutations).
    expect([after[0]! - before[0]!, after[1]! - before[1]!]).toEqual([SAME_KEY_CHECKOUTS / 2, SAME_KEY_CHECKOUTS / 2]);
    expect(answers.flatMap((r) => r.errors ?? [])).toEqual([]);
    const ids = new Set(answers.map((r) => r.data.checkout.payment.id as string));
    expect(ids.size).toBe(1);

    const payments = await sql(stack.env.PAYMENTS_DATABASE_URL!, `SELECT id FROM "Payment" WHERE "userId" = $1`, [buyer.id]);
    expect(payments.map((p) => p.id)).toEqual([...ids]);
    const keys = await sql(stack.env.PAYMENTS_DATABASE_URL!, `SELECT "paymentId" FROM "IdempotencyRecord" WHERE "userId" = $1`, [buyer.id]);
    expect(keys.map((k) => k.paymentId)).toEqual([...ids]);
  });

  it(`publishes each event of ${PURCHASES} purchases once with both outbox relays running, and enrolls each buyer once`, async () => {
    const buyers: Buyer[] = [];
    // Sign-ups hash a password each: a few at a time.
    for (let i = 0; i < PURCHASES; i += 4) buyers.push(...(await Promise.all([0, 1, 2, 3].map((j) => signUp((i + j) % 2 === 0 ? routerA : routerB)))));
    const before = await Promise.all([mutationsServed('payments', 0), mutationsServed('payments', 1)]);
    const answers = await Promise.all(buyers.map((b, i) => checkout(i % 2 === 0 ? routerA : routerB, b, course.id)));
    expect(answers.flatMap((r) => r.errors ?? [])).toEqual([]);
    const after = await Promise.all([mutationsServed('payments', 0), mutationsServed('payments', 1)]);
    // Both instances committed payments, so both relays had rows of their own to publish.
    expect([after[0]! - before[0]!, after[1]! - before[1]!]).toEqual([PURCHASES / 2, PURCHASES / 2]);
    const paymentIds = answers.map((r) => r.data.checkout.payment.id as string);

    // Done when courses has answered every PaymentSucceeded (payments records the answer).
    const outbox = await waitFor(
      async () => {
        const rows = await sql<{ id: string; paymentId: string; publishCount: number; acknowledged: boolean }>(
          stack.env.PAYMENTS_DATABASE_URL!,
          `SELECT id::text, payload->>'paymentId' AS "paymentId", "publishCount", "acknowledgedAt" IS NOT NULL AS acknowledged
             FROM "OutboxEvent" WHERE type = 'PaymentSucceeded' AND payload->>'paymentId' = ANY($1)`,
          [paymentIds],
        );
        return rows.length === PURCHASES && rows.every((r) => r.acknowledged) ? rows : undefined;
      },
      `courses to answer all ${PURCHASES} PaymentSucceeded`,
      30_000,
    );
    const eventIds = outbox.map((r) => r.id);
    expect(outbox.filter((r) => r.publishCount !== 1)).toEqual([]);

    // On the bus: every event once, not once per relay.
    const prefix = stack.env.REDIS_EVENTS_PREFIX!;
    const published = await streamEventIds(stack.env.REDIS_URL!, prefix, 'PaymentSucceeded');
    expect(eventIds.map((id) => published.get(id) ?? 0)).toEqual(eventIds.map(() => 1));

    // Both courses instances consume in the one group `courses`, and each event was handled once:
    // handling it again would have written a second answer (courses answers duplicates too).
    const consumers = await streamConsumers(stack.env.REDIS_URL!, prefix, 'PaymentSucceeded', 'courses');
    for (const name of ['courses#1', 'courses#2'] as const) expect(consumers.some((c) => c.startsWith(`${hostname()}-${stack.pid(name)}-`)), name).toBe(true);
    const processed = await sql(stack.env.COURSES_DATABASE_URL!, `SELECT "eventId"::text FROM "ProcessedEvent" WHERE "eventId"::text = ANY($1)`, [eventIds]);
    expect(processed).toHaveLength(PURCHASES);
    const answered = await sql<{ id: string; acknowledges: string; publishCount: number }>(
      stack.env.COURSES_DATABASE_URL!,
      `SELECT id::text, payload->>'acknowledges' AS acknowledges, "publishCount" FROM "OutboxEvent" WHERE type = 'EnrollmentGranted' AND payload->>'acknowledges' = ANY($1)`,
      [eventIds],
    );
    expect(answered.map((a) => a.acknowledges).sort()).toEqual([...eventIds].sort());
    expect(answered.filter((a) => a.publishCount !== 1)).toEqual([]);
    const answers2 = await streamEventIds(stack.env.REDIS_URL!, prefix, 'EnrollmentGranted');
    expect(answered.map((a) => answers2.get(a.id) ?? 0)).toEqual(answered.map(() => 1));

    const enrollments = await sql<{ userId: string; n: number }>(
      stack.env.COURSES_DATABASE_URL!,
      `SELECT "userId"::text, count(*)::int AS n FROM "Enrollment" WHERE "courseId" = $1 AND "userId"::text = ANY($2) GROUP BY "userId"`,
      [course.id, buyers.map((b) => b.id)],
    );
    expect(enrollments).toHaveLength(PURCHASES);
    expect(enrollments.filter((e) => e.n !== 1)).toEqual([]);
  });

  it('spends one rate-limit budget per user whichever router is asked', async () => {
    const user = await signUp(routerA);
    for (let i = 0; i < USER_BUDGET; i++) {
      const r = await graphql(i % 2 === 0 ? routerA : routerB, ME, { token: user.token });
      expect({ i, errors: r.errors }).toEqual({ i, errors: undefined });
    }
    // Each router saw half the budget: only a shared count refuses now, on either.
    for (const url of [routerA, routerB]) {
      const refused = await graphql(url, ME, { token: user.token });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', rateLimit: 'user', limit: USER_BUDGET });
    }
  });

  it('locks an account out after failed logins spread over both users instances', async () => {
    const user = await signUp(routerA);
    for (let i = 0; i < LOGIN_FAILURES; i++) {
      const r = await graphql(i % 2 === 0 ? routerA : routerB, LOG_IN, { variables: { input: { email: user.email, password: `wrong-${i}` } } });
      expect({ i, code: errorCode(r) }).toEqual({ i, code: 'UNAUTHENTICATED' });
    }
    // The right password, now refused through either router: the count is users' database's, not an instance's.
    for (const url of [routerB, routerA]) {
      const r = await graphql(url, LOG_IN, { variables: { input: { email: user.email, password: user.password } } });
      expect(errorCode(r)).toBe('RATE_LIMITED');
    }
  });

  it('refuses at users#2 a signed request users#1 already accepted (seen request ids in Redis)', async () => {
    const router = createRequestSigner('router', [stack.env.ROUTER_SIGNING_KEYS!]);
    const [users1, users2] = stack.instanceUrls.users.map((u) => `${u}/graphql`) as [string, string];
    // The signature covers the path, not the host: the very request is good at either instance, once.
    const request = signSubgraphRequest(users1, { signer: router, audience: 'users' }, '{ __typename }');
    expect((await postRaw(users1, request)).status).toBe(200);
    const replayed = await postRaw(users2, request);
    expect(replayed.status).toBe(403);
    expect(replayed.errors?.[0]?.message).toContain('replayed request');
  });

  it('refuses through router B, at once, a session logged out through router A, and closes its WebSocket on B with 4403', async () => {
    const user = await signUp(routerA);
    const socket = await connect(routerB, user.token);
    const events = socket.subscribe(SESSION_EVENTS);
    // Until users#2 listens: other sessions of the account, logged out through A, announce themselves
    // on this subscription (reauthenticate false: not this session).
    await waitFor(
      async () => {
        const other = await logIn(routerA, user.email, user.password);
        expect((await graphql(routerA, LOG_OUT, { variables: { t: other.refreshToken } })).data?.logOut.success).toBe(true);
        return events.nth(0, 500).then(
          () => true,
          () => false,
        );
      },
      'the session events subscription on router B to be live',
      { timeoutMs: 15_000, intervalMs: 0 },
    );
    expect(events.results[0]!.data).toEqual({ mySessionEvents: { reason: 'LOGGED_OUT', reauthenticate: false } });
    expect((await graphql(routerB, ME, { token: user.token })).data?.me.id).toBe(user.id);
    // The router takes an event delivered within the grace before the notice as the explanation
    // (router/src/subscriptions/session-guard.ts): the probes' (a later one may still be on its
    // way) must be older, or B would close without waiting for the event of this logout.
    let seen = events.results.length;
    let quietSince = Date.now();
    await waitFor(
      () => {
        if (events.results.length !== seen) [seen, quietSince] = [events.results.length, Date.now()];
        return Date.now() - quietSince > SESSION_EVENT_GRACE_MS + 100;
      },
      'no probe event for longer than the grace',
    );
    expect(events.results.filter((r) => r.data?.mySessionEvents.reauthenticate !== false)).toEqual([]);

    const loggedOutAt = Date.now();
    const out = await graphql(routerA, LOG_OUT, { variables: { t: user.refreshToken } });
    expect(out.data?.logOut.success).toBe(true);
    // docs/identity/sessions.md: the mutation answers once the revocation is recorded, for every instance.
    const refused = await graphql(routerB, ME, { token: user.token });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', sessionEnded: 'LOGGED_OUT' });
    // The event saying why, then the close: at once after it, and in any case 500 ms after the store's
    // notice (a lost notice is caught by the once-a-second re-check).
    expect((await events.nth(seen, 2_000)).data).toEqual({ mySessionEvents: { reason: 'LOGGED_OUT', reauthenticate: true } });
    expect(await within(socket.closed, 2_000, 'router B to close the socket')).toBe(4403);
    expect(Date.now() - loggedOutAt).toBeLessThan(2_000);
    // And a new socket with the dead token is refused by B at connection_init.
    const again = await connectWs(routerB, { token: user.token });
    sockets.push(again);
    expect(await within(again.closed, 2_000, 'router B to refuse the socket')).toBe(4403);
  });

  // Last: it leaves lane A dead.
  it('keeps serving through router B, and finishes what lane A had in flight, when users#1, courses#1, payments#1 and router A are killed', async () => {
    const buyer = await signUp(routerA);
    // In flight on lane A when it dies: a payment payments#1 created, whose provider answers in a
    // few seconds (the sandbox's delayed card). What the sandbox owes is in the shared database, so
    // payments#2 takes it over (subgraphs/payments/src/provider/webhook-sender.ts).
    const late = await signUp(routerA);
    const pending = await checkout(routerA, late, course.id, 'pm_card_visa_delayed');
    expect(pending.data?.checkout.payment.status).toBe('PENDING');
    // Reads through B the whole time, before, during and after the kills: none may fail.
    let reading = true;
    const reads: GraphQLResponse[] = [];
    const traffic = (async () => {
      while (reading) reads.push(await graphql(routerB, CATALOG));
    })();
    await waitFor(() => reads.length >= 5, 'reads through router B');
    await Promise.all((['router#1', 'users#1', 'courses#1', 'payments#1'] as const).map((n) => stack.kill(n, 'SIGKILL')));
    for (const n of ['router#1', 'users#1', 'courses#1', 'payments#1'] as const) expect(stack.pid(n), n).toBeUndefined();
    await expect(fetch(routerA, { method: 'POST', signal: AbortSignal.timeout(2_000) })).rejects.toThrow();

    const student = DEMO_ACCOUNTS.find((a) => a.role === 'STUDENT')!;
    const session = await logIn(routerB, student.email, DEMO_PASSWORD);
    expect(session.user.email).toBe(student.email);
    const catalog = await graphql(routerB, CATALOG, { token: session.accessToken });
    expect(catalog.errors).toBeUndefined();
    expect(catalog.data.courses.edges.length).toBeGreaterThan(0);

    // A buyer signed up through A buys through B: payments#2 asks courses#2 and users#2, its
    // relay publishes, courses#2 enrolls.
    const bought = await checkout(routerB, buyer, course.id);
    expect(bought.errors).toBeUndefined();
    const paymentId: string = bought.data.checkout.payment.id;
    await settled(routerB, buyer, paymentId, 'SUCCEEDED');
    await waitForEnrollment(routerB, buyer, course.id, 'ACTIVE');
    const read = await graphql(routerB, PAYMENT, { token: buyer.token, variables: { id: paymentId } });
    expect(read.data?.payment.receipt?.number).toBeTruthy();
    // The payment lane A left PENDING is settled and fulfilled by lane B alone.
    await settled(routerB, late, pending.data.checkout.payment.id, 'SUCCEEDED', 20_000);
    await waitForEnrollment(routerB, late, course.id, 'ACTIVE');
    const ready = await fetch(routerB.replace(/\/graphql$/, '/ready'));
    expect(ready.status).toBe(200);
    reading = false;
    await traffic;
    expect(reads.length).toBeGreaterThan(10);
    expect(reads.filter((r) => r.errors || !r.data?.courses.edges.length)).toEqual([]);
  });
});
