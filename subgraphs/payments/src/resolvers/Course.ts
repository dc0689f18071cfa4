import type { CourseResolvers } from '../generated/graphql.ts';

export const Course: CourseResolvers = {
  // The representation carries `instructor { id }` when `sales` is asked for (@requires).
  __resolveReference: (ref) => ({ id: ref.id, instructor: ref.instructor ?? null }),
  sales: (course, _args, ctx) => ctx.loaders.salesByCourse.load(course.id),
};
