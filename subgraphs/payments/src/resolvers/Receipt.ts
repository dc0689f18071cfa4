import type { ReceiptResolvers } from '../generated/graphql.ts';

export const Receipt: ReceiptResolvers = {
  subtotal: (r) => ({ amount: r.subtotal, currency: r.currency }),
  tax: (r) => ({ amount: r.tax, currency: r.currency }),
  total: (r) => ({ amount: r.total, currency: r.currency }),
  paymentMethod: (r) => (r.paymentMethodBrand ? { brand: r.paymentMethodBrand, last4: r.paymentMethodLast4 } : null),
  issuedAt: (r) => r.issuedAt.toISOString(),
  paidAt: (r) => r.paidAt.toISOString(),
  refundedAt: (r) => r.refundedAt?.toISOString() ?? null,
};
