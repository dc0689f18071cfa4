import type { PaymentResolvers } from '../generated/graphql.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const Payment: PaymentResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.paymentById.load(ref.id),
  amount: (p) => ({ amount: p.amount, currency: p.currency }),
  course: (p) => ({ id: p.courseId }),
  user: (p) => ({ id: p.userId }),
  paymentMethod: (p) => (p.paymentMethodBrand ? { brand: p.paymentMethodBrand, last4: p.paymentMethodLast4 } : null),
  receipt: (p, _args, ctx) => ctx.loaders.receiptByPayment.load(p.id),
  refund: (p, _args, ctx) => ctx.loaders.latestRefundByPayment.load(p.id),
  createdAt: (p) => p.createdAt.toISOString(),
  updatedAt: (p) => p.updatedAt.toISOString(),
  paidAt: (p) => iso(p.paidAt),
  refundedAt: (p) => iso(p.refundedAt),
};
