import { unauthenticated } from '@campus/kit/core';
import { listen } from '@campus/kit/events';
import { renewLoaders, type Context } from '../context.ts';
import { filterMap } from '../event-stream.ts';
import type { Course, Enrollment } from '../generated/prisma/client.ts';
import type { SubscriptionResolvers } from '../generated/graphql.ts';
import { reviveCourse, reviveEnrollment, reviveLesson, topics, type Wire } from '../live-updates.ts';
import type { LessonModel } from '../models.ts';
import { canSeeCourse } from '../visibility.ts';

/**
 * Only `subscribe`, no `resolve`: graphql-shield wraps `subscribe` only when a field has no resolver
 * of its own, and permissions must be checked when the client subscribes, not merely per event. The
 * default resolver reads the field's name off each value yielded here.
 *
 * A subscription keeps one context for its whole life, so every event starts with fresh loaders:
 * otherwise progress and visibility would be read from the first event's cache forever.
 */
const viewerId = (ctx: Context) => {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer.id;
};

export const Subscription: SubscriptionResolvers = {
  courseUpdated: {
    subscribe: async (_parent, { id }, ctx) =>
      filterMap(await listen<Wire<Course>>(ctx.pubsub, topics.courseUpdated(id)), async (wire) => {
        const course = reviveCourse(wire);
        renewLoaders(ctx).courseById.prime(course.id, course);
        // A course unpublished after the client subscribed is no longer theirs to follow.
        return (await canSeeCourse(ctx, course)) ? { courseUpdated: course } : undefined;
      }),
  },
  lessonPublished: {
    // Access was checked when subscribing; Lesson.content is checked again for every event.
    subscribe: async (_parent, { courseId }, ctx) =>
      filterMap(await listen<Wire<LessonModel>>(ctx.pubsub, topics.lessonPublished(courseId)), async (wire) => {
        const lesson = reviveLesson(wire);
        renewLoaders(ctx).lessonById.prime(lesson.id, lesson);
        return { lessonPublished: lesson };
      }),
  },
  myEnrollmentUpdates: {
    // The topic is the viewer's own: nobody can listen to another user's enrollments.
    subscribe: async (_parent, _args, ctx) =>
      filterMap(await listen<Wire<Enrollment>>(ctx.pubsub, topics.enrollmentUpdated(viewerId(ctx))), async (wire) => {
        const enrollment = reviveEnrollment(wire);
        renewLoaders(ctx).primeEnrollments([enrollment]);
        return { myEnrollmentUpdates: enrollment };
      }),
  },
  progressUpdated: {
    subscribe: async (_parent, { courseId }, ctx) =>
      filterMap(await listen<Wire<Enrollment>>(ctx.pubsub, topics.progressUpdated(viewerId(ctx), courseId)), async (wire) => {
        const enrollment = reviveEnrollment(wire);
        renewLoaders(ctx).primeEnrollments([enrollment]);
        return { progressUpdated: enrollment };
      }),
  },
};
