import type { CourseResolvers } from '../generated/graphql.ts';
import { priceOf } from '../money.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const Course: CourseResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.courseById.load(ref.id),
  isFree: (course) => course.priceAmount === null,
  price: (course) => priceOf(course),
  // A reference the router resolves against the users service.
  instructor: (course) => ({ id: course.instructorId }),
  lessons: (course, _args, ctx) => ctx.loaders.lessonsByCourseId.load(course.id),
  lessonCount: async (course, _args, ctx) => (await ctx.loaders.lessonStatsByCourseId.load(course.id)).count,
  totalDuration: async (course, _args, ctx) => (await ctx.loaders.lessonStatsByCourseId.load(course.id)).durationSeconds,
  viewerEnrollment: (course, _args, ctx) => (ctx.viewer ? ctx.loaders.viewerEnrollmentByCourseId.load(course.id) : null),
  publishedAt: (course) => iso(course.publishedAt),
  createdAt: (course) => course.createdAt.toISOString(),
  updatedAt: (course) => course.updatedAt.toISOString(),
};
