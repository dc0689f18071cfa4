/**
 * Learning progress: which lessons a learner completed, rolled up server-side (never trusted from
 * a client) into Enrollment.progress, and the ACTIVE → COMPLETED step when the last one is done.
 */
import { forbidden, notFound, parseInput } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { z } from 'zod';
import type { CoursesDomain } from './domain.ts';
import type { Enrollment } from './generated/prisma/client.ts';
import type { LessonModel, ProgressModel } from './models.ts';

/** `lessons` in curriculum order; `completed` the ids of the learner's completed lessons. */
export function computeProgress(lessons: readonly LessonModel[], completed: ReadonlySet<string>): ProgressModel {
  const done = lessons.filter((l) => completed.has(l.id)).length;
  const total = lessons.length;
  return {
    completedLessons: done,
    totalLessons: total,
    // Rounded down, so 100 means every lesson, not "nearly".
    percent: total === 0 ? 0 : Math.floor((done * 100) / total),
    nextLesson: lessons.find((l) => !completed.has(l.id)) ?? null,
  };
}

const completeInput = z.object({ lessonId: z.uuid('must be a lesson id') });

/**
 * Marks a lesson complete for the viewer. Idempotent: completing it again writes nothing. The
 * enrollment row is locked first, so when the last two lessons complete concurrently the second
 * transaction counts the first one's lesson and the enrollment ends up COMPLETED.
 */
export async function completeLesson(domain: CoursesDomain, viewer: Viewer, input: unknown): Promise<Enrollment> {
  const { lessonId } = parseInput(completeInput, input);
  const result = await domain.prisma.$transaction(async (tx) => {
    const lesson = await tx.lesson.findUnique({ where: { id: lessonId }, select: { courseId: true } });
    if (!lesson) throw notFound('Lesson', lessonId);
    const [enrollment] = await tx.$queryRaw<Enrollment[]>`
      SELECT * FROM "Enrollment"
       WHERE "userId" = CAST(${viewer.id} AS uuid) AND "courseId" = CAST(${lesson.courseId} AS uuid)
         FOR UPDATE`;
    if (!enrollment || enrollment.status === 'REVOKED') throw forbidden('Enroll in this course to record progress in it.');
    const { count } = await tx.lessonProgress.createMany({ data: [{ enrollmentId: enrollment.id, lessonId }], skipDuplicates: true });
    if (count === 0) return { enrollment, progressed: false, completed: false };

    const [total, done] = [
      await tx.lesson.count({ where: { courseId: lesson.courseId } }),
      await tx.lessonProgress.count({ where: { enrollmentId: enrollment.id } }),
    ];
    const now = new Date();
    const completes = enrollment.status === 'ACTIVE' && done >= total;
    const updated = await tx.enrollment.update({
      where: { id: enrollment.id },
      data: { lastActivityAt: now, ...(completes ? { status: 'COMPLETED', completedAt: now } : {}) },
    });
    if (completes) {
      await tx.enrollmentChange.create({
        data: { enrollmentId: enrollment.id, fromStatus: 'ACTIVE', toStatus: 'COMPLETED', reason: 'completed', actorId: viewer.id },
      });
    }
    return { enrollment: updated, progressed: true, completed: completes };
  });
  if (result.progressed) await domain.live.progressChanged(result.enrollment);
  if (result.completed) await domain.live.enrollmentChanged(result.enrollment);
  return result.enrollment;
}
