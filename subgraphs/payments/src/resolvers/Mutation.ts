import { unauthenticated } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { checkout } from '../checkout.ts';
import type { MutationResolvers } from '../generated/graphql.ts';
import { refundPayment, requestRefund } from '../refunds.ts';

const viewerOf = (ctx: { viewer: Viewer | null }) => {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
};

export const Mutation: MutationResolvers = {
  checkout: async (_p, { input }, ctx) => ({ payment: await checkout(ctx.domain.checkout, viewerOf(ctx), ctx.authorization, input) }),
  requestRefund: async (_p, { input }, ctx) => ({
    payment: await requestRefund(ctx.domain.refunds, viewerOf(ctx), ctx.authorization, input),
  }),
  refundPayment: async (_p, { input }, ctx) => ({ payment: await refundPayment(ctx.domain.refunds, viewerOf(ctx), input) }),
};
