import type { RefundResolvers } from '../generated/graphql.ts';

export const Refund: RefundResolvers = {
  amount: (r) => ({ amount: r.amount, currency: r.currency }),
  createdAt: (r) => r.createdAt.toISOString(),
  completedAt: (r) => r.completedAt?.toISOString() ?? null,
};
