import type { EnrollmentResolvers } from '../generated/graphql.ts';
import { loadExisting } from '../loaders.ts';
import { computeProgress } from '../progress.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const Enrollment: EnrollmentResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.enrollmentById.load(ref.id),
  course: (enrollment, _args, ctx) => loadExisting(ctx.loaders.courseById, enrollment.courseId, 'Course'),
  user: (enrollment) => ({ id: enrollment.userId }),
  progress: async (enrollment, _args, ctx) => {
    const [lessons, completed] = await Promise.all([
      ctx.loaders.lessonsByCourseId.load(enrollment.courseId),
      ctx.loaders.completedLessonIdsByEnrollmentId.load(enrollment.id),
    ]);
    return computeProgress(lessons, completed);
  },
  enrolledAt: (enrollment) => enrollment.enrolledAt.toISOString(),
  lastActivityAt: (enrollment) => iso(enrollment.lastActivityAt),
  completedAt: (enrollment) => iso(enrollment.completedAt),
  revokedAt: (enrollment) => iso(enrollment.revokedAt),
};
