/**
 * Demo and benchmark data for the courses service (docs/courses.md), deterministic: the same
 * scale gives the same rows, ids and dates every time, and course i is the same course at every
 * scale. At scale 1: ~60 courses (mostly published, a few drafts and archived; ~20% free; USD, EUR,
 * GBP and the zero-decimal JPY), a median of ~30 lessons with preview lessons, a few hundred
 * students with enrollments and progress. Larger scales (`npm run db:seed -- --scale 100`) load
 * tens of thousands of enrollments and over a million progress rows for benchmarks.
 *
 * Which courses exist and who enrolls in what is the kit's shared demo plan
 * (packages/kit/src/core/seed-plan.ts), which the users and payments seeds derive from too:
 *   - The demo instructor teaches courses 0-6: five published (free, USD, EUR, JPY, free), a draft
 *     and an archived course.
 *   - The demo student is enrolled in three of them (free with some progress, a completed
 *     purchase, a barely started JPY purchase) and can still enroll in course 4 or buy course 2.
 *   - student1 is a "power learner" enrolled in up to 55 courses (exercises batching).
 * This file adds what only courses knows: lessons, progress and enrollment history.
 * Idempotent: existing rows are skipped, counters recomputed.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { clamp, DAY, logNormal, pick, planCoursesSeed, rng, seedUuid, type PlannedCourse } from '@campus/kit/core';
import type { SeedCounts } from '@campus/kit/subgraph';
import { PrismaClient, type Prisma } from './generated/prisma/client.ts';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

const VERBS = ['Understanding', 'Working with', 'Building', 'Testing', 'Debugging', 'Exploring', 'Designing', 'Improving', 'Practising'];
const CONCEPTS = [
  'the basics', 'core concepts', 'common patterns', 'error handling', 'performance', 'best practices', 'a real project',
  'the tooling', 'edge cases', 'the ecosystem', 'advanced techniques', 'a case study',
];

function lessonRows(course: PlannedCourse): Prisma.LessonCreateManyInput[] {
  const r = rng(`lessons:${course.index}`);
  const topic = course.title;
  const previewSecond = r() < 0.5;
  return Array.from({ length: course.lessonCount }, (_, k) => {
    const position = k + 1;
    const title =
      position === 1
        ? 'Welcome and course overview'
        : position === course.lessonCount
          ? 'Wrap-up and next steps'
          : position === 2
            ? 'Setting up your environment'
            : `${pick(r, VERBS)} ${pick(r, CONCEPTS)}`;
    const video = r() < 0.7;
    const words = Math.round(clamp(logNormal(r, 400, 0.5), 120, 2000));
    const text = Array.from(
      { length: Math.ceil(words / 40) },
      (_, p) => `Part ${p + 1} of "${title}" in ${topic}: we work through an example, explain the choices it makes and note the mistakes people make most often.`,
    ).join('\n\n');
    return {
      id: seedUuid(`lesson:${course.index}:${position}`),
      courseId: course.id,
      position,
      title,
      contentType: video ? 'VIDEO' : 'TEXT',
      content: video ? `https://media.campus.test/videos/${course.slug}/${position}.mp4` : text,
      durationSeconds: video ? Math.round(clamp(logNormal(r, 420, 0.6), 120, 1800)) : Math.max(60, Math.ceil((words / 240) * 60)),
      isPreview: position === 1 || (position === 2 && previewSecond),
      createdAt: course.createdAt,
      updatedAt: course.createdAt,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Writing the plan.

const CHUNK = 2_000;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<{ count: number }>): Promise<number> {
  let count = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    // A turn of the event loop before each chunk. PGlite answers a query without giving one up, so
    // the whole seed would run as one chain of promises, and the embedded default, which seeds in
    // the process that serves, would answer nothing (not even /health or /ready) until it is all
    // written, seconds later.
    await nextTurn();
    count += (await insert(rows.slice(i, i + CHUNK))).count;
  }
  return count;
}

export async function seedCourses(prisma: PrismaClient, scale = 1): Promise<Record<string, number>> {
  const plan = planCoursesSeed(scale);
  const created: Record<string, number> = {};
  created.courses = await insertChunked(plan.courses, (chunk) =>
    prisma.course.createMany({
      skipDuplicates: true,
      data: chunk.map(({ index: _i, lessonCount: _l, weight: _w, ...course }) => ({
        ...course,
        updatedAt: course.archivedAt ?? course.publishedAt ?? course.createdAt,
      })),
    }),
  );

  const lessonIds = new Map<string, string[]>();
  let lessons = 0;
  for (let i = 0; i < plan.courses.length; i += 50) {
    const rows = plan.courses.slice(i, i + 50).flatMap((course) => {
      const ls = lessonRows(course);
      lessonIds.set(course.id, ls.map((l) => l.id!));
      return ls;
    });
    lessons += await insertChunked(rows, (chunk) => prisma.lesson.createMany({ data: chunk, skipDuplicates: true }));
  }
  created.lessons = lessons;

  const byId = new Map(plan.courses.map((c) => [c.id, c]));
  created.enrollments = 0;
  created.lessonProgress = 0;
  // Enrollments stream out in slices, so a large scale never holds every progress row at once.
  for (let i = 0; i < plan.enrollments.length; i += CHUNK) {
    const slice = plan.enrollments.slice(i, i + CHUNK);
    const progress: Prisma.LessonProgressCreateManyInput[] = [];
    const history: Prisma.EnrollmentChangeCreateManyInput[] = [];
    const rows = slice.map((e) => {
      const ids = lessonIds.get(e.courseId)!;
      // Lessons completed one after another, eight hours apart, from the day of enrollment.
      const times = e.completedPositions.map((_p, k) => new Date(e.enrolledAt.getTime() + (k + 1) * (DAY / 3)));
      e.completedPositions.forEach((p, k) => progress.push({ enrollmentId: e.id, lessonId: ids[p - 1]!, completedAt: times[k]! }));
      const last = times.at(-1) ?? null;
      const finished = last !== null && e.completedPositions.length === byId.get(e.courseId)!.lessonCount;
      const reason = e.source === 'FREE' ? 'enrolled' : e.source === 'PURCHASE' ? 'purchased' : 'admin';
      history.push({ id: seedUuid(`history:${e.id}:1`), enrollmentId: e.id, toStatus: 'ACTIVE', source: e.source, reason, paymentId: e.paymentId, at: e.enrolledAt });
      if (finished) {
        history.push({ id: seedUuid(`history:${e.id}:2`), enrollmentId: e.id, fromStatus: 'ACTIVE', toStatus: 'COMPLETED', reason: 'completed', at: last });
      }
      if (e.revokedAt) {
        history.push({
          id: seedUuid(`history:${e.id}:3`),
          enrollmentId: e.id,
          fromStatus: finished ? 'COMPLETED' : 'ACTIVE',
          toStatus: 'REVOKED',
          reason: 'refunded',
          paymentId: e.paymentId,
          at: e.revokedAt,
        });
      }
      return {
        id: e.id,
        userId: e.userId,
        courseId: e.courseId,
        status: e.status,
        source: e.source,
        paymentId: e.paymentId,
        enrolledAt: e.enrolledAt,
        lastActivityAt: last,
        completedAt: finished ? last : null,
        revokedAt: e.revokedAt,
        revokeReason: e.revokedAt ? 'refunded' : null,
        updatedAt: e.revokedAt ?? last ?? e.enrolledAt,
      } satisfies Prisma.EnrollmentCreateManyInput;
    });
    created.enrollments += (await prisma.enrollment.createMany({ data: rows, skipDuplicates: true })).count;
    await prisma.enrollmentChange.createMany({ data: history, skipDuplicates: true });
    created.lessonProgress += await insertChunked(progress, (chunk) => prisma.lessonProgress.createMany({ data: chunk, skipDuplicates: true }));
  }

  // The denormalized counter, from the rows themselves (see Course.enrollmentCount).
  await prisma.$executeRaw`
    UPDATE "Course" c SET "enrollmentCount" =
      (SELECT count(*) FROM "Enrollment" e WHERE e."courseId" = c."id" AND e."status" IN ('ACTIVE', 'COMPLETED'))`;
  return created;
}

/** The embedded default's first start: seeds only a database without courses. */
export async function seedIfEmpty(prisma: PrismaClient, scale: number): Promise<SeedCounts | null> {
  if ((await prisma.course.count()) > 0) return null;
  return seedCourses(prisma, scale);
}

/** On a bare (migrated) database: npm run db:seed and the process stack. */
export async function seed(adapter: SqlDriverAdapterFactory, scale: number): Promise<SeedCounts> {
  const prisma = new PrismaClient({ adapter });
  try {
    return await seedCourses(prisma, scale);
  } finally {
    await prisma.$disconnect();
  }
}
