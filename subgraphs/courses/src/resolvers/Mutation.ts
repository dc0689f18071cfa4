import { unauthenticated } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { archiveCourse, createCourse, publishCourse, unpublishCourse, updateCourse } from '../authoring.ts';
import { renewLoaders, type Context } from '../context.ts';
import { replayDeadLetters } from '../dead-letters.ts';
import { addLesson, deleteLesson, reorderLessons, updateLesson } from '../curriculum.ts';
import { adminEnroll, enrollInFreeCourse } from '../enrollments.ts';
import type { Course, Enrollment, Lesson } from '../generated/prisma/client.ts';
import type { MutationResolvers } from '../generated/graphql.ts';
import { completeLesson } from '../progress.ts';

/** Permissions already required a viewer; this only narrows the type. */
const viewerOf = (ctx: Context): Viewer => {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
};

/** What the loaders cached before the write is stale now; start over, knowing the written row. */
const fresh = {
  course: (ctx: Context, course: Course) => {
    renewLoaders(ctx).courseById.prime(course.id, course);
    return course;
  },
  lesson: (ctx: Context, lesson: Lesson) => {
    const loaders = renewLoaders(ctx);
    loaders.lessonById.prime(lesson.id, lesson);
    loaders.lessonContentById.prime(lesson.id, lesson.content);
    return lesson;
  },
  enrollment: (ctx: Context, enrollment: Enrollment) => {
    renewLoaders(ctx).primeEnrollments([enrollment]);
    return enrollment;
  },
};

export const Mutation: MutationResolvers = {
  createCourse: async (_p, { input }, ctx) => ({ course: fresh.course(ctx, await createCourse(ctx.domain, viewerOf(ctx), input)) }),
  updateCourse: async (_p, { input }, ctx) => ({ course: fresh.course(ctx, await updateCourse(ctx.domain, viewerOf(ctx), input)) }),
  publishCourse: async (_p, { input }, ctx) => ({ course: fresh.course(ctx, await publishCourse(ctx.domain, viewerOf(ctx), input)) }),
  unpublishCourse: async (_p, { input }, ctx) => ({ course: fresh.course(ctx, await unpublishCourse(ctx.domain, viewerOf(ctx), input)) }),
  archiveCourse: async (_p, { input }, ctx) => ({ course: fresh.course(ctx, await archiveCourse(ctx.domain, viewerOf(ctx), input)) }),
  addLesson: async (_p, { input }, ctx) => ({ lesson: fresh.lesson(ctx, await addLesson(ctx.domain, viewerOf(ctx), input)) }),
  updateLesson: async (_p, { input }, ctx) => ({ lesson: fresh.lesson(ctx, await updateLesson(ctx.domain, viewerOf(ctx), input)) }),
  reorderLessons: async (_p, { input }, ctx) => ({ course: fresh.course(ctx, await reorderLessons(ctx.domain, viewerOf(ctx), input)) }),
  deleteLesson: async (_p, { input }, ctx) => {
    const { deletedLessonId, course } = await deleteLesson(ctx.domain, viewerOf(ctx), input);
    return { deletedLessonId, course: fresh.course(ctx, course) };
  },
  enrollInFreeCourse: async (_p, { input }, ctx) => ({
    enrollment: fresh.enrollment(ctx, await enrollInFreeCourse(ctx.domain, viewerOf(ctx), input)),
  }),
  completeLesson: async (_p, { input }, ctx) => ({
    enrollment: fresh.enrollment(ctx, await completeLesson(ctx.domain, viewerOf(ctx), input)),
  }),
  adminEnroll: async (_p, { input }, ctx) => ({ enrollment: fresh.enrollment(ctx, await adminEnroll(ctx.domain, viewerOf(ctx), input)) }),
  replayEventDeadLetters: async (_p, { input }, ctx) => ({ replayed: await replayDeadLetters(ctx.domain, viewerOf(ctx), input) }),
};
