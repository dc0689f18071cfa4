/**
 * What the databases say after the run, read directly (not through the services, which could hide
 * a loss behind a cache or an error), and the invariants of "nothing lost, nothing doubled" checked
 * against it. Table names are Prisma's (subgraphs/payments/prisma/schema.prisma,
 * subgraphs/courses/prisma/schema.prisma). Only the run's own courses are read: the demo seed's
 * purchases are not the suite's.
 */
import pg from 'pg';
import type { FaultKind, InjectedFault } from './faults.ts';
import type { Purchase } from './driver.ts';
import type { ClientStats } from './client.ts';

export interface PaymentRow {
  id: string;
  userId: string;
  courseId: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';
  failureCode: string | null;
  ageMs: number;
}
export interface EnrollmentRow {
  id: string;
  userId: string;
  courseId: string;
  status: 'ACTIVE' | 'COMPLETED' | 'REVOKED';
  source: 'FREE' | 'PURCHASE' | 'ADMIN';
  paymentId: string | null;
}

export interface Ledger {
  payments: PaymentRow[];
  /** `bySystem`: asked for by payments itself (no requester), not by a buyer or an admin. */
  refunds: { paymentId: string; status: string; bySystem: boolean }[];
  receipts: { paymentId: string }[];
  idempotency: { userId: string; key: string; paymentId: string }[];
  unpublishedOutbox: number;
  /** Payment events published more than once because courses' answer was overdue (docs/delivery.md). */
  republishedOutbox: number;
  enrollments: EnrollmentRow[];
  /** Every change of an enrollment to REVOKED: one per refund, never two. */
  revocations: { enrollmentId: string; paymentId: string | null }[];
}

async function query<T>(url: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  // A client per read: the fault suite terminates every connection to these databases, its own included.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function readLedger(paymentsUrl: string, coursesUrl: string, courseIds: string[]): Promise<Ledger> {
  const [payments, courses] = await Promise.all([
    query(paymentsUrl, async (c) => {
      const payments = await c.query(
        `SELECT id, "userId", "courseId", status::text AS status, "failureCode", (EXTRACT(EPOCH FROM now() - "createdAt") * 1000)::float8 AS "ageMs"
           FROM "Payment" WHERE "courseId" = ANY($1::uuid[])`,
        [courseIds],
      );
      const refunds = await c.query(
        `SELECT r."paymentId", r.status::text AS status, r."requestedBy" IS NULL AS "bySystem" FROM "Refund" r JOIN "Payment" p ON p.id = r."paymentId" WHERE p."courseId" = ANY($1::uuid[])`,
        [courseIds],
      );
      const receipts = await c.query(`SELECT "paymentId" FROM "Receipt" WHERE "courseId" = ANY($1::uuid[])`, [courseIds]);
      const idempotency = await c.query(`SELECT "userId", key, "paymentId" FROM "IdempotencyRecord" WHERE operation = 'checkout'`);
      const outbox = await c.query(
        `SELECT count(*) FILTER (WHERE "publishedAt" IS NULL)::int AS n, count(*) FILTER (WHERE "publishCount" > 1)::int AS republished FROM "OutboxEvent"`,
      );
      return {
        payments: payments.rows,
        refunds: refunds.rows,
        receipts: receipts.rows,
        idempotency: idempotency.rows,
        unpublishedOutbox: outbox.rows[0].n as number,
        republishedOutbox: outbox.rows[0].republished as number,
      };
    }),
    query(coursesUrl, async (c) => {
      const enrollments = await c.query(
        `SELECT id, "userId", "courseId", status::text AS status, source::text AS source, "paymentId" FROM "Enrollment" WHERE "courseId" = ANY($1::uuid[])`,
        [courseIds],
      );
      const revocations = await c.query(
        `SELECT h."enrollmentId", h."paymentId" FROM "EnrollmentChange" h JOIN "Enrollment" e ON e.id = h."enrollmentId"
          WHERE e."courseId" = ANY($1::uuid[]) AND h."toStatus" = 'REVOKED'`,
        [courseIds],
      );
      return { enrollments: enrollments.rows, revocations: revocations.rows };
    }),
  ]);
  return { ...payments, ...courses };
}

/** The violations of each invariant, as readable lines (empty = holds). */
export interface Verdict {
  /** SUCCEEDED payments without exactly one ACTIVE enrollment from them. */
  succeededWithoutActiveEnrollment: string[];
  /** REFUNDED payments whose enrollment is not REVOKED by them, or was revoked other than once. */
  refundedNotRevokedOnce: string[];
  /** PURCHASE enrollments without a SUCCEEDED or REFUNDED payment of theirs. */
  enrollmentWithoutPayment: string[];
  /** Sends of one key answered with another payment (or a refusal) than the first answer. */
  retryGotAnotherAnswer: string[];
  /** Keys whose recorded payment is not the one answered, and (buyer, course) pairs with two payments. */
  doublePayments: string[];
  /** PENDING payments older than the reconciliation age. */
  stalePending: string[];
  /** Payments with a receipt they should not have, or without one they should. */
  receiptMismatch: string[];
}

export function verdict(ledger: Ledger, purchases: Purchase[], reconcileAfterMs: number): Verdict {
  const v: Verdict = {
    succeededWithoutActiveEnrollment: [],
    refundedNotRevokedOnce: [],
    enrollmentWithoutPayment: [],
    retryGotAnotherAnswer: [],
    doublePayments: [],
    stalePending: [],
    receiptMismatch: [],
  };
  const pair = (userId: string, courseId: string) => `${userId}:${courseId}`;
  const enrollmentsByPair = new Map<string, EnrollmentRow[]>();
  for (const e of ledger.enrollments) enrollmentsByPair.set(pair(e.userId, e.courseId), [...(enrollmentsByPair.get(pair(e.userId, e.courseId)) ?? []), e]);
  const paymentsById = new Map(ledger.payments.map((p) => [p.id, p]));
  const revocationsByEnrollment = new Map<string, number>();
  for (const r of ledger.revocations) revocationsByEnrollment.set(r.enrollmentId, (revocationsByEnrollment.get(r.enrollmentId) ?? 0) + 1);
  const receiptsByPayment = new Map<string, number>();
  for (const r of ledger.receipts) receiptsByPayment.set(r.paymentId, (receiptsByPayment.get(r.paymentId) ?? 0) + 1);

  for (const p of ledger.payments) {
    const enrollments = enrollmentsByPair.get(pair(p.userId, p.courseId)) ?? [];
    if (p.status === 'SUCCEEDED') {
      const mine = enrollments.filter((e) => e.status === 'ACTIVE' && e.paymentId === p.id);
      if (mine.length !== 1 || enrollments.length !== 1) {
        v.succeededWithoutActiveEnrollment.push(`payment ${p.id}: ${enrollments.length ? enrollments.map((e) => `${e.status}/${e.paymentId}`).join(', ') : 'no enrollment'}`);
      }
    }
    if (p.status === 'REFUNDED') {
      const mine = enrollments.filter((e) => e.paymentId === p.id);
      const revoked = mine.filter((e) => e.status === 'REVOKED');
      const times = revoked.length === 1 ? (revocationsByEnrollment.get(revoked[0]!.id) ?? 0) : 0;
      if (mine.length !== 1 || revoked.length !== 1 || times !== 1) {
        v.refundedNotRevokedOnce.push(`payment ${p.id}: ${mine.length ? mine.map((e) => `${e.status}`).join(', ') : 'no enrollment'}, revoked ${times} time(s)`);
      }
    }
    if (p.status === 'PENDING' && p.ageMs > reconcileAfterMs) v.stalePending.push(`payment ${p.id}: PENDING for ${(p.ageMs / 1000).toFixed(1)} s`);
    const receipts = receiptsByPayment.get(p.id) ?? 0;
    const wants = p.status === 'SUCCEEDED' || p.status === 'REFUNDED' ? 1 : 0;
    if (receipts !== wants) v.receiptMismatch.push(`payment ${p.id} (${p.status}): ${receipts} receipt(s)`);
  }
  for (const paymentId of receiptsByPayment.keys()) {
    if (!paymentsById.has(paymentId)) v.receiptMismatch.push(`receipt for unknown payment ${paymentId}`);
  }

  for (const e of ledger.enrollments) {
    if (e.source !== 'PURCHASE') continue;
    const p = e.paymentId ? paymentsById.get(e.paymentId) : undefined;
    if (!p || (p.status !== 'SUCCEEDED' && p.status !== 'REFUNDED') || p.userId !== e.userId || p.courseId !== e.courseId) {
      v.enrollmentWithoutPayment.push(`enrollment ${e.id} (${e.status}) names payment ${e.paymentId}: ${p ? p.status : 'no such payment'}`);
    }
  }

  const records = new Map(ledger.idempotency.map((r) => [`${r.userId}:${r.key}`, r.paymentId]));
  for (const purchase of purchases) {
    const first = purchase.answers[0];
    for (const a of purchase.answers.slice(1)) {
      if (a.paymentId !== first!.paymentId || a.error !== first!.error) {
        v.retryGotAnotherAnswer.push(`checkout #${purchase.index} key ${purchase.key}: ${first!.paymentId ?? first!.error} then ${a.paymentId ?? a.error} (${a.send})`);
      }
    }
    const recorded = records.get(`${purchase.buyer.id}:${purchase.key}`);
    for (const a of purchase.answers) {
      if (a.paymentId && recorded !== a.paymentId) v.doublePayments.push(`checkout #${purchase.index}: answered ${a.paymentId}, key recorded for ${recorded ?? 'nothing'}`);
    }
  }
  const paymentsByPair = new Map<string, string[]>();
  for (const p of ledger.payments) paymentsByPair.set(pair(p.userId, p.courseId), [...(paymentsByPair.get(pair(p.userId, p.courseId)) ?? []), p.id]);
  // Each (buyer, course) is bought once with one key (driver.ts): two payments are a duplicate.
  for (const [k, ids] of paymentsByPair) if (ids.length > 1) v.doublePayments.push(`buyer:course ${k}: ${ids.length} payments`);
  return v;
}

export const holds = (v: Verdict) => Object.values(v).every((lines) => lines.length === 0);

export interface Figures {
  purchasesAttempted: number;
  purchasesAnswered: number;
  purchasesUnanswered: number;
  paymentsByStatus: Record<string, number>;
  refunds: { asked: number; requested: number; notAsked: Record<string, number>; byStatus: Record<string, number>; bySystem: Record<string, number> };
  /** Purchases with a method that succeeds whose payment FAILED anyway, by failure code. */
  failedDespiteGoodMethod: Record<string, number>;
  retries: {
    sameKeyConcurrent: number;
    sameKeyAfterFault: number;
    clientRetriesAfterFailure: number;
    byFailure: Record<string, number>;
    reLogins: number;
    gotAnotherAnswer: number;
  };
  faults: Partial<Record<FaultKind, number>>;
  faultTimeline: InjectedFault[];
  lost: number;
  doubled: { payments: number; enrollments: number; receipts: number; revocations: number; total: number };
  unpublishedOutbox: number;
  republishedOutbox: number;
  convergedMsAfterLastFault: number | null;
  convergedMsAfterTraffic: number | null;
  convergeDeadlineMs: number;
  runSeconds: number;
}

const count = <T>(xs: T[], key: (x: T) => string) => xs.reduce<Record<string, number>>((acc, x) => ((acc[key(x)] = (acc[key(x)] ?? 0) + 1), acc), {});

export function figures(input: {
  ledger: Ledger;
  verdict: Verdict;
  purchases: Purchase[];
  faults: InjectedFault[];
  client: ClientStats;
  convergedMsAfterLastFault: number | null;
  convergedMsAfterTraffic: number | null;
  convergeDeadlineMs: number;
  runSeconds: number;
}): Figures {
  const { ledger, purchases, client } = input;
  const answered = purchases.filter((p) => p.answers.length > 0).length;
  const asked = purchases.filter((p) => p.refund && p.refundOutcome !== undefined);
  const enrollmentsPerPair = count(ledger.enrollments, (e) => `${e.userId}:${e.courseId}`);
  const paymentsPerPair = count(ledger.payments, (p) => `${p.userId}:${p.courseId}`);
  const receiptsPerPayment = count(ledger.receipts, (r) => r.paymentId);
  const revocationsPerEnrollment = count(ledger.revocations, (r) => r.enrollmentId);
  const extra = (m: Record<string, number>) => Object.values(m).reduce((s, n) => s + Math.max(0, n - 1), 0);
  const doubled = {
    payments: extra(paymentsPerPair),
    enrollments: extra(enrollmentsPerPair),
    receipts: extra(receiptsPerPayment),
    revocations: extra(revocationsPerEnrollment),
    total: 0,
  };
  doubled.total = doubled.payments + doubled.enrollments + doubled.receipts + doubled.revocations;
  const byFailure = client.retriesAfterFailure;
  return {
    purchasesAttempted: purchases.length,
    purchasesAnswered: answered,
    purchasesUnanswered: purchases.length - answered,
    paymentsByStatus: count(ledger.payments, (p) => p.status),
    refunds: {
      asked: asked.length,
      requested: asked.filter((p) => p.refundOutcome === 'requested').length,
      notAsked: count(
        asked.filter((p) => p.refundOutcome !== 'requested'),
        (p) => p.refundOutcome!,
      ),
      byStatus: count(ledger.refunds, (r) => r.status),
      bySystem: count(
        ledger.refunds.filter((r) => r.bySystem),
        (r) => `${r.status} for a ${ledger.payments.find((p) => p.id === r.paymentId)?.status ?? 'missing'} payment`,
      ),
    },
    failedDespiteGoodMethod: count(
      ledger.payments.filter((p) => p.status === 'FAILED' && purchases.some((x) => x.method !== 'pm_card_chargeDeclined' && x.answers.some((a) => a.paymentId === p.id))),
      (p) => p.failureCode ?? 'no code',
    ),
    retries: {
      sameKeyConcurrent: purchases.flatMap((p) => p.answers).filter((a) => a.send === 'concurrent').length,
      sameKeyAfterFault: purchases.flatMap((p) => p.answers).filter((a) => a.send === 'after-fault').length,
      clientRetriesAfterFailure: Object.values(byFailure).reduce((s, n) => s + n, 0),
      byFailure,
      reLogins: client.reLogins,
      gotAnotherAnswer: input.verdict.retryGotAnotherAnswer.length,
    },
    faults: count(input.faults, (f) => f.kind),
    faultTimeline: input.faults,
    lost: ledger.payments.filter((p) => p.status === 'SUCCEEDED' && !ledger.enrollments.some((e) => e.paymentId === p.id && e.status === 'ACTIVE')).length,
    doubled,
    unpublishedOutbox: ledger.unpublishedOutbox,
    republishedOutbox: ledger.republishedOutbox,
    convergedMsAfterLastFault: input.convergedMsAfterLastFault,
    convergedMsAfterTraffic: input.convergedMsAfterTraffic,
    convergeDeadlineMs: input.convergeDeadlineMs,
    runSeconds: input.runSeconds,
  };
}

const kv = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

export function formatFigures(f: Figures): string {
  const converged =
    f.convergedMsAfterLastFault === null
      ? `did not converge within ${(f.convergeDeadlineMs / 1000).toFixed(0)} s of the end of traffic`
      : `${(f.convergedMsAfterLastFault / 1000).toFixed(1)} s after the last fault was over (${((f.convergedMsAfterTraffic ?? 0) / 1000).toFixed(1)} s after the last client answer)`;
  return [
    '── fault suite: nothing lost when things fail ──',
    `purchases attempted   ${f.purchasesAttempted} (answered ${f.purchasesAnswered}, unanswered ${f.purchasesUnanswered})`,
    `payments by status    ${kv(f.paymentsByStatus)}`,
    `refunds               asked ${f.refunds.asked}, accepted ${f.refunds.requested}; not accepted: ${kv(f.refunds.notAsked)}; Refund rows: ${kv(f.refunds.byStatus)}; asked by payments itself: ${kv(f.refunds.bySystem)}`,
    `failed, good method   ${kv(f.failedDespiteGoodMethod)} (purchases with a succeeding test card whose payment FAILED, by failure code)`,
    `retries               same key at once ${f.retries.sameKeyConcurrent}, same key after a fault ${f.retries.sameKeyAfterFault}, resent after a failed request ${f.retries.clientRetriesAfterFailure} (${kv(f.retries.byFailure)}), re-logins ${f.retries.reLogins}; answered with another payment ${f.retries.gotAnotherAnswer}`,
    `faults injected       ${kv(f.faults as Record<string, number>)}`,
    ...f.faultTimeline.map((x) => `                        t+${(x.at / 1000).toFixed(1)} s ${x.kind} with ${x.inFlight} purchases in flight: back after ${(x.downMs / 1000).toFixed(1)} s${x.detail ? ` (${x.detail})` : ''}`),
    `lost                  ${f.lost} (SUCCEEDED payments without an ACTIVE enrollment from them)`,
    `doubled               ${f.doubled.total} (payments ${f.doubled.payments}, enrollments ${f.doubled.enrollments}, receipts ${f.doubled.receipts}, revocations ${f.doubled.revocations})`,
    `unpublished outbox    ${f.unpublishedOutbox}`,
    `healed by republish   ${f.republishedOutbox} payment events published again because courses' answer was overdue`,
    `time to converge      ${converged}`,
    `run                   ${f.runSeconds.toFixed(0)} s`,
  ].join('\n');
}
