import { notFound, unauthenticated } from '@campus/kit/core';
import { listen } from '@campus/kit/events';
import type { SubscriptionResolvers } from '../generated/graphql.ts';
import { paymentTopic, userPaymentsTopic, type PaymentChanged } from '../live-updates.ts';
import type { Context } from '../context.ts';
import { createLoaders } from '../loaders.ts';
import { paymentStream } from '../payment-stream.ts';

/** Every event is executed with fresh loaders (see paymentStream's beforeEach). */
const freshLoaders = (ctx: Context) => () => {
  ctx.loaders = createLoaders(ctx.prisma);
};

/**
 * Only `subscribe`, no `resolve`: graphql-shield wraps `subscribe` only when a field has no
 * resolver of its own, and the check must run when the client subscribes. The default resolver
 * reads the field off each root value the stream yields.
 */
export const Subscription: SubscriptionResolvers = {
  paymentUpdated: {
    subscribe: async (_parent, { id }, ctx) => {
      // The shield let the viewer through for this id (buyer or admin); a missing payment is NOT_FOUND.
      const current = await ctx.prisma.payment.findUnique({ where: { id } });
      if (!current) throw notFound('Payment', id);
      // Listen first, then send the current state: a change in between is not missed.
      const source = await listen<PaymentChanged>(ctx.pubsub, paymentTopic(id));
      const load = (paymentId: string) => ctx.prisma.payment.findUnique({ where: { id: paymentId } });
      return paymentStream('paymentUpdated', source, load, [(await load(id)) ?? current], freshLoaders(ctx));
    },
  },
  myPaymentUpdates: {
    subscribe: async (_parent, _args, ctx) => {
      if (!ctx.viewer) throw unauthenticated();
      const userId = ctx.viewer.id;
      // The topic is the viewer's own; the check on userId guards against a pointer that lies.
      const source = await listen<PaymentChanged>(ctx.pubsub, userPaymentsTopic(userId));
      const load = async (paymentId: string) => {
        const payment = await ctx.prisma.payment.findUnique({ where: { id: paymentId } });
        return payment?.userId === userId ? payment : null;
      };
      return paymentStream('myPaymentUpdates', source, load, [], freshLoaders(ctx));
    },
  },
};
