/**
 * Receipts: issued in the transaction that marks a payment SUCCEEDED, numbered R-<year>-<000001>
 * without gaps per year. The counter row is incremented with INSERT ... ON CONFLICT DO UPDATE,
 * which locks it until the transaction ends, so concurrent successes get distinct numbers and a
 * rolled-back one gives its number back.
 */
import type { Payment, Prisma, Receipt } from './generated/prisma/client.ts';

async function nextNumber(tx: Prisma.TransactionClient, year: number): Promise<string> {
  const [row] = await tx.$queryRaw<{ last: number }[]>`
    INSERT INTO "ReceiptCounter" ("year", "last") VALUES (${year}, 1)
    ON CONFLICT ("year") DO UPDATE SET "last" = "ReceiptCounter"."last" + 1
    RETURNING "last"`;
  return `R-${year}-${String(row!.last).padStart(6, '0')}`;
}

/** `payment` as it is after succeeding (paidAt and payment method set). */
export async function issueReceipt(tx: Prisma.TransactionClient, payment: Payment, paidAt: Date): Promise<Receipt> {
  return tx.receipt.create({
    data: {
      number: await nextNumber(tx, paidAt.getUTCFullYear()),
      paymentId: payment.id,
      buyerName: payment.buyerName,
      buyerEmail: payment.buyerEmail,
      description: payment.courseTitle,
      courseId: payment.courseId,
      subtotal: payment.amount,
      tax: 0,
      total: payment.amount,
      currency: payment.currency,
      paymentMethodBrand: payment.paymentMethodBrand,
      paymentMethodLast4: payment.paymentMethodLast4,
      issuedAt: new Date(),
      paidAt,
    },
  });
}
