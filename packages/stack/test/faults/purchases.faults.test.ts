/**
 * Nothing lost when things fail: purchases through the router under load while Redis, every
 * service and PostgreSQL's connections fail one after another, then, once the system has had time
 * to heal, the databases must agree (docs/payments.md): every paid purchase enrolled once, every
 * refund revoked once, no purchase paid twice, no payment left PENDING, one receipt per paid one.
 *
 * The production topology (packages/stack/src/process-stack.ts): each service its own process on
 * throwaway PostgreSQL databases, and a Redis of the suite's own that can be killed
 * (redis-server.ts). Run with `npm run test:faults` (vitest.faults.config.ts), which .ci/run does.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessStack, type ProcessStack } from '../../src/process-stack.ts';
import { runScenario, type ScenarioResult } from './driver.ts';
import { FAULT_SEQUENCE } from './faults.ts';
import { figures, formatFigures, holds, readLedger, verdict, type Figures, type Ledger, type Verdict } from './ledger.ts';
import { startOwnRedis, type OwnRedis } from '@campus/test-kit';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** PENDING payments older than this are settled from the provider's answer (payments' reconciliation). */
const RECONCILE_AFTER_MS = 3_000;
/** How long after the traffic the databases have to agree. */
const CONVERGE_DEADLINE_MS = 45_000;

/** Short timings, so that healing takes seconds (docs/payments.md "Configuration"). */
const PAYMENTS_ENV = {
  PAYMENTS_RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
  PAYMENTS_ACK_TIMEOUT_MS: '2000',
  PAYMENTS_SANDBOX_DELAY_MS: '1500',
  PAYMENTS_POLL_INTERVAL_MS: '200',
};

// Run by vitest.faults.config.ts only: vitest.config.ts (npm test) excludes *.faults.test.ts.
describe('purchases while things fail', () => {
  let redis: OwnRedis | undefined;
  let stack: ProcessStack | undefined;
  let run: ScenarioResult;
  let ledger: Ledger;
  let result: Verdict;
  let figs: Figures;
  const traffic = new AbortController();

  beforeAll(async () => {
    redis = await startOwnRedis();
    stack = await startProcessStack({
      databaseUrl: DATABASE_URL,
      databaseLabel: 'campus_faults',
      redisUrl: redis.url,
      env: {
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        EVENTS_RETRY_AFTER_MS: '500',
        // Every buyer is 127.0.0.1 and retries during faults: no budget may run out.
        RATE_LIMIT_PER_ADDRESS: '1000000',
        RATE_LIMIT_PER_USER: '1000000',
        RATE_LIMIT_STRICT_PER_ADDRESS: '1000000',
        RATE_LIMIT_STRICT_PER_USER: '1000000',
      },
      processEnv: { payments: PAYMENTS_ENV },
    });

    run = await runScenario({
      routerUrl: stack.routerUrl,
      targets: { stack, redis, databaseUrl: DATABASE_URL },
      faults: FAULT_SEQUENCE,
      buyers: 12,
      courses: 12,
      gapMs: 250,
      concurrency: 12,
      settleTimeoutMs: 30_000,
      signal: traffic.signal,
    });

    // Convergence: the databases agree and nothing is left in flight. Polled, with a deadline.
    const paymentsUrl = stack.env.PAYMENTS_DATABASE_URL!;
    const coursesUrl = stack.env.COURSES_DATABASE_URL!;
    const deadline = Date.now() + CONVERGE_DEADLINE_MS;
    let convergedAt: number | null = null;
    for (;;) {
      ledger = await readLedger(paymentsUrl, coursesUrl, run.courseIds);
      result = verdict(ledger, run.purchases, RECONCILE_AFTER_MS);
      const settled = !ledger.payments.some((p) => p.status === 'PENDING') && !ledger.refunds.some((r) => r.status === 'PENDING');
      if (holds(result) && settled) {
        convergedAt = Date.now();
        break;
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    figs = figures({
      ledger,
      verdict: result,
      purchases: run.purchases,
      faults: run.faults,
      client: run.client.stats,
      convergedMsAfterLastFault: convergedAt === null ? null : convergedAt - run.lastFaultRecoveredAt,
      convergedMsAfterTraffic: convergedAt === null ? null : convergedAt - run.trafficEndedAt,
      convergeDeadlineMs: CONVERGE_DEADLINE_MS,
      runSeconds: (Date.now() - run.startedAt) / 1000,
    });
    console.log(formatFigures(figs));
  });

  afterAll(async () => {
    // If the scenario failed half-way, its buyers are still retrying: they stop before the processes do.
    traffic.abort();
    try {
      await stack?.close();
    } finally {
      await redis?.stop();
    }
  });

  const sample = (lines: string[]) => lines.slice(0, 10);

  it('injects every fault with traffic flowing, and every client call gets an answer', ({ task }) => {
    (task.meta as Record<string, unknown>).faultFigures = figs;
    expect(run.faults.map((f) => f.kind)).toEqual(FAULT_SEQUENCE);
    // Faults start at milestones of the traffic, with purchases in flight.
    expect(run.faults.filter((f) => f.inFlight === 0).map((f) => f.kind)).toEqual([]);
    expect(run.client.stats.unanswered).toEqual([]);
    // The mix happened: without it the invariants below would hold vacuously.
    expect(figs.paymentsByStatus.SUCCEEDED ?? 0).toBeGreaterThan(0);
    expect(figs.paymentsByStatus.FAILED ?? 0).toBeGreaterThan(0);
    expect(figs.refunds.requested).toBeGreaterThan(0);
    expect(figs.retries.sameKeyConcurrent + figs.retries.sameKeyAfterFault).toBeGreaterThan(0);
    // The ledger reads the rows the traffic made (the run's courses), not an empty or foreign set.
    const answered = new Set(run.purchases.flatMap((p) => p.answers.flatMap((a) => (a.paymentId ? [a.paymentId] : []))));
    expect(ledger.payments.filter((p) => answered.has(p.id)).length).toBe(answered.size);
  });

  it('enrolls every SUCCEEDED payment exactly once, from that payment (nothing lost)', () => {
    expect(sample(result.succeededWithoutActiveEnrollment), `${result.succeededWithoutActiveEnrollment.length} payments`).toEqual([]);
  });

  it('revokes the enrollment of every REFUNDED payment, exactly once', () => {
    expect(sample(result.refundedNotRevokedOnce), `${result.refundedNotRevokedOnce.length} payments`).toEqual([]);
  });

  it('has no PURCHASE enrollment without a SUCCEEDED or REFUNDED payment', () => {
    expect(sample(result.enrollmentWithoutPayment), `${result.enrollmentWithoutPayment.length} enrollments`).toEqual([]);
  });

  it('answers every retried checkout with the original payment, and never creates a second one', () => {
    expect(sample(result.retryGotAnotherAnswer), `${result.retryGotAnotherAnswer.length} answers`).toEqual([]);
    expect(sample(result.doublePayments), `${result.doublePayments.length} problems`).toEqual([]);
  });

  it('leaves no payment PENDING longer than the reconciliation age', () => {
    expect(sample(result.stalePending), `${result.stalePending.length} payments`).toEqual([]);
  });

  it('issues one receipt per SUCCEEDED or REFUNDED payment and none for others', () => {
    expect(sample(result.receiptMismatch), `${result.receiptMismatch.length} payments`).toEqual([]);
  });

  // Last, since it changes the databases: the checks above are only worth something if they see a
  // loss where there is one, in these very tables.
  it('sees a purchase whose enrollment is gone (the harness checks itself)', async () => {
    const paid = ledger.payments.find((p) => p.status === 'SUCCEEDED' && ledger.enrollments.some((e) => e.paymentId === p.id && e.status === 'ACTIVE'));
    expect(paid, 'a SUCCEEDED payment with its enrollment').toBeDefined();
    const courses = new pg.Client({ connectionString: stack!.env.COURSES_DATABASE_URL });
    await courses.connect();
    try {
      await courses.query(`DELETE FROM "Enrollment" WHERE "paymentId" = $1`, [paid!.id]);
    } finally {
      await courses.end();
    }
    const after = verdict(await readLedger(stack!.env.PAYMENTS_DATABASE_URL!, stack!.env.COURSES_DATABASE_URL!, run.courseIds), run.purchases, RECONCILE_AFTER_MS);
    expect(after.succeededWithoutActiveEnrollment).toContain(`payment ${paid!.id}: no enrollment`);
    expect(after.succeededWithoutActiveEnrollment).toHaveLength(result.succeededWithoutActiveEnrollment.length + 1);
  });
});
