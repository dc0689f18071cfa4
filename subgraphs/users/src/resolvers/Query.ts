import { toConnection, toPage } from '@campus/kit';
import type { QueryResolvers } from '../generated/graphql.ts';
import type { Prisma } from '../generated/prisma/client.ts';

export const Query: QueryResolvers = {
  me: (_parent, _args, ctx) => (ctx.viewer ? ctx.loaders.userById.load(ctx.viewer.id) : null),
  user: (_parent, { id }, ctx) => ctx.loaders.userById.load(id),
  users: async (_parent, args, ctx) => {
    const page = toPage(args);
    const search = args.search?.trim();
    const where: Prisma.UserWhereInput = search
      ? { OR: [{ name: { contains: search, mode: 'insensitive' } }, { email: { contains: search, mode: 'insensitive' } }] }
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
