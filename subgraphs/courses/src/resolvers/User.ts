import { toConnection, toPage } from '@campus/kit/subgraph';
import type { UserResolvers } from '../generated/graphql.ts';
import { seesEveryCourseOf } from '../visibility.ts';

export const User: UserResolvers = {
  // Users live in the users service; here a user is only the id others refer to.
  __resolveReference: (ref) => ({ id: ref.id }),
  enrollments: async (user, args, ctx) => {
    const page = toPage(args);
    const statuses = args.status?.length ? [...new Set(args.status)].sort() : null;
    const rows = await ctx.loaders.enrollmentsOfUser.load({ userId: user.id, statuses, ...page });
    return toConnection(rows, page, () => ctx.loaders.enrollmentCountOfUser.load({ userId: user.id, statuses }));
  },
  coursesTaught: async (user, args, ctx) => {
    const page = toPage(args);
    const all = seesEveryCourseOf(ctx.viewer, user.id);
    const rows = await ctx.loaders.coursesTaughtBy.load({ instructorId: user.id, all, ...page });
    return toConnection(rows, page, () => ctx.loaders.coursesTaughtCount.load({ instructorId: user.id, all }));
  },
};
