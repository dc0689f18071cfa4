import { escapeLike, unauthenticated } from '@campus/kit/core';
import { isUuid, toConnection, toPage } from '@campus/kit/subgraph';
import { findDataExport } from '../data-export.ts';
import type { QueryResolvers } from '../generated/graphql.ts';
import type { Prisma } from '../generated/prisma/client.ts';

/** An id filter that can match nothing: a string that is not a UUID names no row. */
const NO_ROW = '00000000-0000-0000-0000-000000000000';

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
  dataExport: (_parent, { id }, ctx) => {
    if (!ctx.viewer) throw unauthenticated();
    return findDataExport(ctx.prisma, ctx.viewer, id);
  },
  myAccountDeletion: (_parent, _args, ctx) =>
    ctx.viewer ? ctx.prisma.accountDeletion.findFirst({ where: { userId: ctx.viewer.id }, orderBy: [{ requestedAt: 'desc' }, { id: 'desc' }] }) : null,
  accountDeletions: async (_parent, args, ctx) => {
    const page = toPage(args);
    const where: Prisma.AccountDeletionWhereInput = args.status ? { status: args.status } : {};
    const rows = await ctx.prisma.accountDeletion.findMany({ where, orderBy: [{ requestedAt: 'desc' }, { id: 'desc' }], skip: page.skip, take: page.take + 1 });
    return toConnection(rows, page, () => ctx.prisma.accountDeletion.count({ where }));
  },
  auditLog: async (_parent, args, ctx) => {
    const page = toPage(args);
    const { actorId, action, targetId } = args.filter ?? {};
    const where: Prisma.AuditEntryWhereInput = {
      ...(actorId ? { actorId: isUuid(actorId) ? actorId : NO_ROW } : {}),
      ...(action ? { action } : {}),
      ...(targetId ? { targetId } : {}),
    };
    // Newest first: seq is the append order.
    const rows = await ctx.prisma.auditEntry.findMany({ where, orderBy: { seq: 'desc' }, skip: page.skip, take: page.take + 1 });
    return toConnection(rows, page, () => ctx.prisma.auditEntry.count({ where }));
  },
};
