/**
 * Demo and benchmark data for the payments service: the orders behind the courses seed's PURCHASE
 * enrollments, derived from the kit's shared demo plan (packages/kit/src/core/seed-plan.ts)
 * without reading the courses database. Each planned purchase becomes a SUCCEEDED payment (paid when the learner
 * enrolled) with its receipt; a purchase the plan revoked becomes REFUNDED with a SUCCEEDED
 * refund. Payment ids are the ones the courses seed wrote into its enrollments, so `User.payments`,
 * `Course.sales` and the enrollments tell the same story. Buyer snapshots are the plan's names and
 * emails, the ones the users seed wrote. Idempotent: existing rows are skipped.
 */
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { planCoursesSeed, seededStudentId, seededStudentProfile, seedUuid } from '@campus/kit/core';
import type { SeedCounts } from '@campus/kit/subgraph';
import { PrismaClient, type Prisma } from './generated/prisma/client.ts';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

const CHUNK = 2_000;
const pseudoId = (prefix: string, of: string) => `${prefix}_seed_${createHash('sha1').update(of).digest('hex').slice(0, 24)}`;

export async function seedPayments(prisma: PrismaClient, scale = 1): Promise<Record<string, number>> {
  const plan = planCoursesSeed(scale);
  const courses = new Map(plan.courses.map((c) => [c.id, c]));
  const studentIndex = new Map(Array.from({ length: plan.size.students }, (_, i) => [seededStudentId(i), i]));

  const purchases = plan.enrollments
    .filter((e) => e.source === 'PURCHASE' && e.paymentId)
    .map((e) => ({ e, course: courses.get(e.courseId)!, buyer: seededStudentProfile(studentIndex.get(e.userId) ?? 0) }))
    .filter(({ course }) => course.priceAmount !== null && course.priceCurrency !== null)
    .sort((a, b) => a.e.enrolledAt.getTime() - b.e.enrolledAt.getTime() || a.e.paymentId!.localeCompare(b.e.paymentId!));

  const payments: Prisma.PaymentCreateManyInput[] = [];
  const receipts: Prisma.ReceiptCreateManyInput[] = [];
  const refunds: Prisma.RefundCreateManyInput[] = [];
  const lastNumber = new Map<number, number>();
  for (const { e, course, buyer } of purchases) {
    const id = e.paymentId!;
    const refunded = e.status === 'REVOKED' && e.revokedAt !== null;
    const amount = course.priceAmount!;
    const currency = course.priceCurrency!;
    payments.push({
      id,
      userId: e.userId,
      courseId: course.id,
      courseTitle: course.title,
      amount,
      currency,
      status: refunded ? 'REFUNDED' : 'SUCCEEDED',
      provider: 'sandbox',
      providerPaymentId: pseudoId('pi', id),
      paymentMethodBrand: 'visa',
      paymentMethodLast4: '4242',
      buyerName: buyer.name,
      buyerEmail: buyer.email,
      purchaseLock: refunded ? null : `${e.userId}:${course.id}`,
      version: refunded ? 4 : 2,
      createdAt: e.enrolledAt,
      paidAt: e.enrolledAt,
      refundedAt: refunded ? e.revokedAt : null,
    });
    const year = e.enrolledAt.getUTCFullYear();
    const n = (lastNumber.get(year) ?? 0) + 1;
    lastNumber.set(year, n);
    receipts.push({
      id: seedUuid(`receipt:${id}`),
      number: `R-${year}-${String(n).padStart(6, '0')}`,
      paymentId: id,
      buyerName: buyer.name,
      buyerEmail: buyer.email,
      description: course.title,
      courseId: course.id,
      subtotal: amount,
      tax: 0,
      total: amount,
      currency,
      paymentMethodBrand: 'visa',
      paymentMethodLast4: '4242',
      issuedAt: e.enrolledAt,
      paidAt: e.enrolledAt,
      refundedAt: refunded ? e.revokedAt : null,
    });
    if (refunded) {
      refunds.push({
        id: seedUuid(`refund:${id}`),
        paymentId: id,
        amount,
        currency,
        status: 'SUCCEEDED',
        reason: 'Not what I expected.',
        requestedBy: e.userId,
        openLock: id,
        providerRefundId: pseudoId('re', id),
        createdAt: e.revokedAt!,
        completedAt: e.revokedAt,
      });
    }
  }

  const insert = async <T>(rows: T[], fn: (chunk: T[]) => Promise<{ count: number }>) => {
    let count = 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      // A turn of the event loop before each chunk, as in subgraphs/courses/src/seed.ts.
      await nextTurn();
      count += (await fn(rows.slice(i, i + CHUNK))).count;
    }
    return count;
  };
  return prisma.$transaction(
    async (tx) => {
      const created = {
        payments: await insert(payments, (data) => tx.payment.createMany({ data, skipDuplicates: true })),
        receipts: await insert(receipts, (data) => tx.receipt.createMany({ data, skipDuplicates: true })),
        refunds: await insert(refunds, (data) => tx.refund.createMany({ data, skipDuplicates: true })),
      };
      // Receipts issued later continue the seeded numbering.
      for (const [year, last] of lastNumber) {
        await tx.$executeRaw`
          INSERT INTO "ReceiptCounter" ("year", "last") VALUES (${year}, ${last})
          ON CONFLICT ("year") DO UPDATE SET "last" = GREATEST("ReceiptCounter"."last", EXCLUDED."last")`;
      }
      return created;
    },
    { timeout: 120_000 },
  );
}

/** The embedded default's first start: seeds only a database without payments. */
export async function seedIfEmpty(prisma: PrismaClient, scale: number): Promise<SeedCounts | null> {
  if ((await prisma.payment.count()) > 0) return null;
  return seedPayments(prisma, scale);
}

/** On a bare (migrated) database: npm run db:seed and the process stack. */
export async function seed(adapter: SqlDriverAdapterFactory, scale: number): Promise<SeedCounts> {
  const prisma = new PrismaClient({ adapter });
  try {
    return await seedPayments(prisma, scale);
  } finally {
    await prisma.$disconnect();
  }
}
