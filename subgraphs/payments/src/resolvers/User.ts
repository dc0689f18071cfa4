import { toConnection, toPage } from '@campus/kit/subgraph';
import type { UserResolvers } from '../generated/graphql.ts';

export const User: UserResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  payments: async (user, args, ctx) => {
    const page = toPage(args);
    const rows = await ctx.loaders.paymentsPage.load({ userId: user.id, page });
    return toConnection(rows, page, () => ctx.loaders.paymentCountByUser.load(user.id));
  },
};
