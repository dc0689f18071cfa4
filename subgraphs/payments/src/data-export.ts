/**
 * Payments' part of a user's data export (docs/privacy.md): users asks every participant with
 * `DataExportRequested`, and payments answers `DataExportPartReady` through its outbox with what
 * it holds about the user: their payments (with the buyer snapshot and card brand/last four as
 * stored), the refunds of those payments, and their receipts.
 *
 * Answering is idempotent in the simplest way: every delivery of the request is answered again with
 * the data as it is then (users keeps the first answer), so a lost answer is made good by the next
 * redelivery and nothing needs recording here.
 *
 * Bounded: the part travels as one event (an outbox row, a bus entry), so each list holds at most
 * `EXPORT_LIMIT` rows, newest first; a longer history says so in `truncated` with the full counts
 * in `counts`. Exporting it all would need the part to travel as a file (object storage) rather
 * than in an event.
 */
import { EXPORT_LIMIT, type ExportPart as Part, type ExportRequest } from '@campus/kit/events';
import type { PrismaClient } from './generated/prisma/client.ts';
import { recordEvent } from './outbox.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** What payments holds about `userId`, bounded. */
export async function exportPart(prisma: PrismaClient, userId: string): Promise<Part> {
  const ofUser = { payment: { userId } };
  const [payments, refunds, receipts, paymentCount, refundCount, receiptCount] = await Promise.all([
    prisma.payment.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: EXPORT_LIMIT }),
    prisma.refund.findMany({ where: ofUser, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: EXPORT_LIMIT }),
    prisma.receipt.findMany({ where: ofUser, orderBy: [{ issuedAt: 'desc' }, { id: 'asc' }], take: EXPORT_LIMIT }),
    prisma.payment.count({ where: { userId } }),
    prisma.refund.count({ where: ofUser }),
    prisma.receipt.count({ where: ofUser }),
  ]);
  const counts = { payments: paymentCount, refunds: refundCount, receipts: receiptCount };
  return {
    payments: payments.map((p) => ({
      id: p.id,
      courseId: p.courseId,
      courseTitle: p.courseTitle,
      amount: p.amount,
      currency: p.currency,
      status: p.status,
      failureReason: p.failureReason,
      paymentMethod: { brand: p.paymentMethodBrand, last4: p.paymentMethodLast4 },
      buyerName: p.buyerName,
      buyerEmail: p.buyerEmail,
      createdAt: iso(p.createdAt),
      paidAt: iso(p.paidAt),
      failedAt: iso(p.failedAt),
      refundedAt: iso(p.refundedAt),
    })),
    refunds: refunds.map((r) => ({
      id: r.id,
      paymentId: r.paymentId,
      amount: r.amount,
      currency: r.currency,
      status: r.status,
      reason: r.reason,
      requestedByYou: r.requestedBy === userId,
      createdAt: iso(r.createdAt),
      completedAt: iso(r.completedAt),
    })),
    receipts: receipts.map((r) => ({
      number: r.number,
      paymentId: r.paymentId,
      description: r.description,
      buyerName: r.buyerName,
      buyerEmail: r.buyerEmail,
      subtotal: r.subtotal,
      tax: r.tax,
      total: r.total,
      currency: r.currency,
      paymentMethod: { brand: r.paymentMethodBrand, last4: r.paymentMethodLast4 },
      issuedAt: iso(r.issuedAt),
      paidAt: iso(r.paidAt),
      refundedAt: iso(r.refundedAt),
    })),
    counts,
    truncated: Object.entries(counts)
      .filter(([, n]) => n > EXPORT_LIMIT)
      .map(([list]) => list),
  };
}

/** Answers one delivery of a DataExportRequested: the part, written to the outbox. */
export async function answerExport(prisma: PrismaClient, request: ExportRequest): Promise<void> {
  const part = await exportPart(prisma, request.userId);
  await prisma.$transaction((tx) =>
    recordEvent(tx, 'DataExportPartReady', {
      acknowledges: request.eventId,
      exportId: request.exportId,
      userId: request.userId,
      service: 'payments',
      part,
    }),
  );
}
