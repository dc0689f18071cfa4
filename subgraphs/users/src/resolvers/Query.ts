import { escapeLike } from '@campus/kit/core';
import { toConnection, toPage } from '@campus/kit/subgraph';
import type { QueryResolvers } from '../generated/graphql.ts';
import type { Prisma } from '../generated/prisma/client.ts';

export const Query: QueryResolvers = {
  me: (_parent, _args, ctx) => (ctx.viewer ? ctx.loaders.userById.load(ctx.viewer.id) : null),
  user: (_parent, { id }, ctx) => ctx.loaders.userById.load(id),
  users: async (_parent, args, ctx) => {
    const page = toPage(args);
    const search = args.search?.trim();
    // Prisma's `contains` is a LIKE pattern: escaped, `%` and `_` find themselves, not everyone.
    const pattern = search ? escapeLike(search) : undefined;
    const where: Prisma.UserWhereInput = pattern
      ? { OR: [{ name: { contains: pattern, mode: 'insensitive' } }, { email: { contains: pattern, mode: 'insensitive' } }] }
      : {};
    const rows = await ctx.prisma.user.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      skip: page.skip,
      take: page.take + 1,
    });
    return toConnection(rows, page, () => ctx.prisma.user.count({ where }));
  },
};
