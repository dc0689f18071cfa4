/**
 * The courses service's live updates for subscriptions (docs/subscriptions.md): published on the pub/sub after the change
 * commits, one topic per thing a client can follow. Topics are scoped so that a subscriber only
 * hears what it asked for: a user's own enrollments, one course's curriculum.
 *
 * Payloads cross Redis as JSON, so rows travel with their dates as ISO strings and are revived on
 * the way out (`revive*`), identically on the in-memory pub/sub. Publishing is best effort: the
 * change is committed and a client that missed an event re-queries on reconnect.
 */
import type { Logger } from '@campus/kit/core';
import { bestEffortPublisher, type LiveUpdateCounts, type PubSub } from '@campus/kit/events';
import type { Course, Enrollment } from './generated/prisma/client.ts';
import type { LessonModel } from './models.ts';

export const topics = {
  courseUpdated: (courseId: string) => `courses:course-updated:${courseId}`,
  lessonPublished: (courseId: string) => `courses:lesson-published:${courseId}`,
  enrollmentUpdated: (userId: string) => `courses:enrollment-updated:${userId}`,
  progressUpdated: (userId: string, courseId: string) => `courses:progress-updated:${userId}:${courseId}`,
};

/** A row as it crosses the wire: Date fields become ISO strings. */
export type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

const toWire = <T>(row: T): Wire<T> => JSON.parse(JSON.stringify(row)) as Wire<T>;

function revive<T>(wire: Wire<T>, dateFields: readonly (keyof T)[]): T {
  const row = { ...wire } as Record<keyof T, unknown>;
  for (const field of dateFields) {
    const value = row[field];
    if (typeof value === 'string') row[field] = new Date(value);
  }
  return row as T;
}

export const reviveCourse = (wire: Wire<Course>) =>
  revive<Course>(wire, ['publishedAt', 'archivedAt', 'createdAt', 'updatedAt']);
export const reviveLesson = (wire: Wire<LessonModel>) => revive<LessonModel>(wire, ['createdAt', 'updatedAt']);
export const reviveEnrollment = (wire: Wire<Enrollment>) =>
  revive<Enrollment>(wire, ['enrolledAt', 'lastActivityAt', 'completedAt', 'revokedAt', 'updatedAt']);

export interface LiveUpdates {
  courseChanged(course: Course): Promise<void>;
  lessonPublished(lesson: LessonModel): Promise<void>;
  enrollmentChanged(enrollment: Enrollment): Promise<void>;
  progressChanged(enrollment: Enrollment): Promise<void>;
}

/** `counts`: where the service counts how its publishes ended (campus_live_updates_published_total). */
export function liveUpdates(pubsub: PubSub, logger: Logger, counts?: LiveUpdateCounts): LiveUpdates {
  const publish = bestEffortPublisher(pubsub, logger, { counts });
  return {
    courseChanged: (course) => publish(topics.courseUpdated(course.id), toWire(course)),
    lessonPublished: (lesson) => {
      // Content stays out of the event: subscribers read it through Lesson.content, which checks access.
      const { content: _content, ...outline } = lesson as LessonModel & { content?: string };
      return publish(topics.lessonPublished(lesson.courseId), toWire<LessonModel>(outline));
    },
    enrollmentChanged: (enrollment) => publish(topics.enrollmentUpdated(enrollment.userId), toWire(enrollment)),
    progressChanged: (enrollment) =>
      publish(topics.progressUpdated(enrollment.userId, enrollment.courseId), toWire(enrollment)),
  };
}
