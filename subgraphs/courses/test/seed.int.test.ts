/** The courses seed on a real database: what it writes is consistent, and running it again writes nothing. */
import { DEMO_ACCOUNTS } from '@campus/kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCourses } from '@campus/courses/seed';
import { startCourses, type CoursesHarness } from './harness.ts';

describe('seeding the courses database', () => {
  let h: CoursesHarness;
  let first: Record<string, number>;

  beforeAll(async () => {
    h = await startCourses();
    first = await seedCourses(h.service.prisma, 0.5);
  });
  afterAll(() => h?.close());

  it('writes courses, lessons, enrollments and progress', () => {
    expect(first.courses).toBe(30);
    expect(first.lessons).toBeGreaterThan(30 * 5);
    expect(first.enrollments).toBeGreaterThan(100);
    expect(first.lessonProgress).toBeGreaterThan(first.enrollments!);
  });

  it('keeps every course’s enrollmentCount equal to its ACTIVE and COMPLETED enrollments', async () => {
    const counts = await h.service.prisma.enrollment.groupBy({ by: ['courseId'], where: { status: { in: ['ACTIVE', 'COMPLETED'] } }, _count: { _all: true } });
    const courses = await h.service.prisma.course.findMany();
    const expected = new Map(counts.map((c) => [c.courseId, c._count._all]));
    for (const course of courses) expect(course.enrollmentCount, course.slug).toBe(expected.get(course.id) ?? 0);
  });

  it('numbers every course’s lessons 1..n and marks COMPLETED exactly the enrollments with every lesson done', async () => {
    const gaps = await h.service.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT "courseId", max(position) AS top, count(*) AS total FROM "Lesson" GROUP BY "courseId") t WHERE top <> total`;
    expect(gaps[0]!.n).toBe(0);
    const wrong = await h.service.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM "Enrollment" e
       WHERE (e."completedAt" IS NOT NULL) <> ((SELECT count(*) FROM "LessonProgress" p WHERE p."enrollmentId" = e.id) = (SELECT count(*) FROM "Lesson" l WHERE l."courseId" = e."courseId"))`;
    expect(wrong[0]!.n).toBe(0);
  });

  it('gives the demo instructor published courses and the demo student enrollments', async () => {
    expect(await h.service.prisma.course.count({ where: { instructorId: DEMO_ACCOUNTS[1].id, status: 'PUBLISHED' } })).toBeGreaterThanOrEqual(4);
    expect(await h.service.prisma.enrollment.count({ where: { userId: DEMO_ACCOUNTS[2].id } })).toBeGreaterThanOrEqual(2);
  });

  it('writes nothing when run again', async () => {
    const again = await seedCourses(h.service.prisma, 0.5);
    expect(again).toEqual({ courses: 0, lessons: 0, enrollments: 0, lessonProgress: 0 });
  });
});
