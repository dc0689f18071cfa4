import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  payment: (_parent, { id }, ctx) => ctx.loaders.paymentById.load(id),
};
