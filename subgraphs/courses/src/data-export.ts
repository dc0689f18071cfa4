/**
 * Courses' part of a user's data export (docs/privacy.md): users asks every participant with
 * `DataExportRequested`, and courses answers `DataExportPartReady` through its outbox with what it
 * holds about the user: their enrollments (with each course's title), the history of those
 * enrollments, their lesson progress, and the courses they teach.
 *
 * Answering is idempotent in the simplest way: every delivery of the request is answered again with
 * the data as it is then (users keeps the first answer), so a lost answer is made good by the next
 * redelivery and nothing needs recording here.
 *
 * Bounded: the part travels as one event (an outbox row, a bus entry), so each list holds at most
 * `EXPORT_LIMIT` rows (`PROGRESS_LIMIT` completed lessons), newest first; a longer history says so
 * in `truncated` with the full counts in `counts`. Exporting it all would need the part to travel
 * as a file (object storage) rather than in an event.
 */
import { EXPORT_LIMIT, type ExportPart as Part, type ExportRequest } from '@campus/kit/events';
import type { PrismaClient } from './generated/prisma/client.ts';
import { recordEvent } from './outbox.ts';

/** Completed lessons are small rows and many (a power learner has thousands). */
export const PROGRESS_LIMIT = 1000;

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** What courses holds about `userId`, bounded. */
export async function exportPart(prisma: PrismaClient, userId: string): Promise<Part> {
  const ofUser = { enrollment: { userId } };
  const [enrollments, history, progress, taught, counts] = await Promise.all([
    prisma.enrollment.findMany({
      where: { userId },
      orderBy: [{ enrolledAt: 'desc' }, { id: 'asc' }],
      take: EXPORT_LIMIT,
      include: { course: { select: { title: true, slug: true } } },
    }),
    prisma.enrollmentChange.findMany({ where: ofUser, orderBy: [{ at: 'desc' }, { id: 'asc' }], take: EXPORT_LIMIT, include: { enrollment: { select: { courseId: true } } } }),
    prisma.lessonProgress.findMany({
      where: ofUser,
      orderBy: [{ completedAt: 'desc' }, { lessonId: 'asc' }],
      take: PROGRESS_LIMIT,
      include: { lesson: { select: { title: true, courseId: true, position: true } } },
    }),
    prisma.course.findMany({ where: { instructorId: userId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: EXPORT_LIMIT }),
    Promise.all([
      prisma.enrollment.count({ where: { userId } }),
      prisma.enrollmentChange.count({ where: ofUser }),
      prisma.lessonProgress.count({ where: ofUser }),
      prisma.course.count({ where: { instructorId: userId } }),
    ]).then(([enrollments, enrollmentHistory, progress, coursesTaught]) => ({ enrollments, enrollmentHistory, progress, coursesTaught })),
  ]);
  const limits: Record<keyof typeof counts, number> = { enrollments: EXPORT_LIMIT, enrollmentHistory: EXPORT_LIMIT, progress: PROGRESS_LIMIT, coursesTaught: EXPORT_LIMIT };
  return {
    enrollments: enrollments.map((e) => ({
      id: e.id,
      courseId: e.courseId,
      courseTitle: e.course.title,
      courseSlug: e.course.slug,
      status: e.status,
      source: e.source,
      paymentId: e.paymentId,
      enrolledAt: iso(e.enrolledAt),
      lastActivityAt: iso(e.lastActivityAt),
      completedAt: iso(e.completedAt),
      revokedAt: iso(e.revokedAt),
      revokeReason: e.revokeReason,
    })),
    enrollmentHistory: history.map((c) => ({
      enrollmentId: c.enrollmentId,
      courseId: c.enrollment.courseId,
      fromStatus: c.fromStatus,
      toStatus: c.toStatus,
      reason: c.reason,
      byYou: c.actorId === userId,
      at: iso(c.at),
    })),
    progress: progress.map((p) => ({
      courseId: p.lesson.courseId,
      lessonId: p.lessonId,
      lessonTitle: p.lesson.title,
      lessonPosition: p.lesson.position,
      completedAt: iso(p.completedAt),
    })),
    coursesTaught: taught.map((c) => ({
      id: c.id,
      slug: c.slug,
      title: c.title,
      status: c.status,
      enrollmentCount: c.enrollmentCount,
      createdAt: iso(c.createdAt),
      publishedAt: iso(c.publishedAt),
      archivedAt: iso(c.archivedAt),
    })),
    counts,
    truncated: (Object.keys(counts) as (keyof typeof counts)[]).filter((list) => counts[list] > limits[list]),
  };
}

/** Answers one delivery of a DataExportRequested: the part, written to the outbox. */
export async function answerExport(prisma: PrismaClient, request: ExportRequest): Promise<void> {
  const part = await exportPart(prisma, request.userId);
  await prisma.$transaction((tx) =>
    recordEvent(tx, 'DataExportPartReady', {
      acknowledges: request.eventId,
      exportId: request.exportId,
      userId: request.userId,
      service: 'courses',
      part,
    }),
  );
}
