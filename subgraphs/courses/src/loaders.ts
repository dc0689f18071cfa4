/**
 * Every DataLoader of the courses service; created per request in createContext (and afresh per
 * subscription event), never shared: a shared loader would serve one viewer's rows to another and
 * serve stale rows forever. Each batch function is one SQL statement for all its keys.
 */
import { notFound } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { groupByKeys, loaderBatches, orderByKeys, uuidKeys } from '@campus/kit/subgraph';
import DataLoader from 'dataloader';
import { Prisma, type Course, type Enrollment, type EnrollmentStatus, type PrismaClient } from './generated/prisma/client.ts';
import { enumArray } from './catalog.ts';
import type { LessonModel } from './models.ts';
import { pagesByParent, withoutPageRow, type ParentPage } from './paging.ts';

export interface LessonStats {
  count: number;
  durationSeconds: number;
}

export interface EnrollmentsOfUserKey extends ParentPage {
  userId: string;
  /** null = every status. */
  statuses: EnrollmentStatus[] | null;
}

export interface CoursesTaughtKey extends ParentPage {
  instructorId: string;
  /** false = PUBLISHED only (what everyone may see); true = every status (the instructor, admins). */
  all: boolean;
}

const jsonKey = (key: unknown) => JSON.stringify(key);

/** Runs `fetch` once per distinct `variant` of the keys (in practice one) and hands rows back by key. */
async function batchByVariant<K, R>(
  keys: readonly K[],
  variant: (key: K) => string,
  fetch: (keys: K[]) => Promise<Map<K, R>>,
): Promise<R[]> {
  const groups = new Map<string, K[]>();
  for (const key of keys) {
    const v = variant(key);
    const group = groups.get(v);
    if (group) group.push(key);
    else groups.set(v, [key]);
  }
  const results = new Map<K, R>();
  for (const group of groups.values()) for (const [k, r] of await fetch(group)) results.set(k, r);
  return keys.map((k) => results.get(k)!);
}

export function createLoaders(prisma: PrismaClient, viewer: Viewer | null) {
  // Each batch counted under its key in the object returned below (campus_dataloader_*,
  // packages/kit/src/subgraph/loaders.ts).
  const counted = loaderBatches(prisma);
  const courseById = new DataLoader<string, Course | null>(counted('courseById', async (ids) => {
    const valid = uuidKeys(ids);
    const rows = valid.length ? await prisma.course.findMany({ where: { id: { in: valid } } }) : [];
    return orderByKeys(ids, rows, (c) => c.id);
  }));

  const courseBySlug = new DataLoader<string, Course | null>(counted('courseBySlug', async (slugs) => {
    const rows = await prisma.course.findMany({ where: { slug: { in: [...slugs] } } });
    for (const row of rows) courseById.prime(row.id, row);
    return orderByKeys(slugs, rows, (c) => c.slug);
  }));

  /** Lessons without their content: lists and outlines never need it (see lessonContentById). */
  const lessonById = new DataLoader<string, LessonModel | null>(counted('lessonById', async (ids) => {
    const valid = uuidKeys(ids);
    const rows = valid.length ? await prisma.lesson.findMany({ where: { id: { in: valid } }, omit: { content: true } }) : [];
    return orderByKeys(ids, rows, (l) => l.id);
  }));

  const lessonContentById = new DataLoader<string, string | null>(counted('lessonContentById', async (ids) => {
    const valid = uuidKeys(ids);
    const rows = valid.length
      ? await prisma.lesson.findMany({ where: { id: { in: valid } }, select: { id: true, content: true } })
      : [];
    return orderByKeys(ids, rows, (l) => l.id).map((row) => row?.content ?? null);
  }));

  const lessonsByCourseId = new DataLoader<string, LessonModel[]>(counted('lessonsByCourseId', async (courseIds) => {
    const valid = uuidKeys(courseIds);
    const rows = valid.length
      ? await prisma.lesson.findMany({
          where: { courseId: { in: valid } },
          omit: { content: true },
          orderBy: [{ courseId: 'asc' }, { position: 'asc' }],
        })
      : [];
    for (const row of rows) lessonById.prime(row.id, row);
    return groupByKeys(courseIds, rows, (l) => l.courseId);
  }));

  const lessonStatsByCourseId = new DataLoader<string, LessonStats>(counted('lessonStatsByCourseId', async (courseIds) => {
    const valid = uuidKeys(courseIds);
    const rows = valid.length
      ? await prisma.lesson.groupBy({
          by: ['courseId'],
          where: { courseId: { in: valid } },
          _count: { _all: true },
          _sum: { durationSeconds: true },
        })
      : [];
    return orderByKeys(courseIds, rows, (r) => r.courseId).map((r) => ({
      count: r?._count._all ?? 0,
      durationSeconds: r?._sum.durationSeconds ?? 0,
    }));
  }));

  const enrollmentById = new DataLoader<string, Enrollment | null>(counted('enrollmentById', async (ids) => {
    const valid = uuidKeys(ids);
    const rows = valid.length ? await prisma.enrollment.findMany({ where: { id: { in: valid } } }) : [];
    return orderByKeys(ids, rows, (e) => e.id);
  }));

  /** The viewer's own enrollment in each course: what lesson-content and visibility checks ask. */
  const viewerEnrollmentByCourseId = new DataLoader<string, Enrollment | null>(counted('viewerEnrollmentByCourseId', async (courseIds) => {
    const valid = uuidKeys(courseIds);
    if (!viewer || valid.length === 0) return courseIds.map(() => null);
    const rows = await prisma.enrollment.findMany({ where: { userId: viewer.id, courseId: { in: valid } } });
    return orderByKeys(courseIds, rows, (e) => e.courseId);
  }));

  const completedLessonIdsByEnrollmentId = new DataLoader<string, Set<string>>(counted('completedLessonIdsByEnrollmentId', async (enrollmentIds) => {
    const valid = uuidKeys(enrollmentIds);
    const rows = valid.length
      ? await prisma.lessonProgress.findMany({
          where: { enrollmentId: { in: valid } },
          select: { enrollmentId: true, lessonId: true },
        })
      : [];
    return groupByKeys(enrollmentIds, rows, (r) => r.enrollmentId).map((group) => new Set(group.map((r) => r.lessonId)));
  }));

  /** Remembers rows a page brought, so their fields and rules do not query them again. */
  const primeEnrollments = (rows: Enrollment[]) => {
    for (const row of rows) {
      enrollmentById.prime(row.id, row);
      if (viewer && row.userId === viewer.id) viewerEnrollmentByCourseId.prime(row.courseId, row);
    }
  };
  const primeCourses = (rows: Course[]) => {
    for (const row of rows) courseById.prime(row.id, row);
  };

  const statusFilter = (statuses: EnrollmentStatus[] | null) =>
    statuses ? Prisma.sql`t."status" = ANY(${enumArray(statuses, 'EnrollmentStatus')})` : Prisma.sql`TRUE`;

  /** A page (plus one row) of each user's enrollments, most recent first. */
  const enrollmentsOfUser = new DataLoader<EnrollmentsOfUserKey, Enrollment[], string>(
    counted('enrollmentsOfUser', (keys) =>
      batchByVariant(keys, (k) => jsonKey([k.statuses, k.skip, k.take]), async (group) => {
        const { statuses, skip, take } = group[0]!;
        const userIds = uuidKeys(group.map((k) => k.userId));
        const rows = userIds.length
          ? (
              await prisma.$queryRaw<(Enrollment & { pageRow: bigint })[]>(
                pagesByParent(
                  { table: 'Enrollment', parent: 'userId' },
                  userIds,
                  statusFilter(statuses),
                  Prisma.sql`t."enrolledAt" DESC, t."id" DESC`,
                  { skip, take },
                ),
              )
            ).map(withoutPageRow)
          : [];
        primeEnrollments(rows);
        const byUser = groupByKeys(group.map((k) => k.userId), rows, (r) => r.userId);
        return new Map(group.map((k, i) => [k, byUser[i]!]));
      })),
    { cacheKeyFn: jsonKey },
  );

  const enrollmentCountOfUser = new DataLoader<Omit<EnrollmentsOfUserKey, keyof ParentPage>, number, string>(
    counted('enrollmentCountOfUser', (keys) =>
      batchByVariant(keys, (k) => jsonKey(k.statuses), async (group) => {
        const { statuses } = group[0]!;
        const userIds = uuidKeys(group.map((k) => k.userId));
        const rows = userIds.length
          ? await prisma.enrollment.groupBy({
              by: ['userId'],
              where: { userId: { in: userIds }, ...(statuses ? { status: { in: statuses } } : {}) },
              _count: { _all: true },
            })
          : [];
        const counts = orderByKeys(group.map((k) => k.userId), rows, (r) => r.userId);
        return new Map(group.map((k, i) => [k, counts[i]?._count._all ?? 0]));
      })),
    { cacheKeyFn: jsonKey },
  );

  const taughtFilter = (all: boolean) => (all ? Prisma.sql`TRUE` : Prisma.sql`t."status" = 'PUBLISHED'`);

  /** A page (plus one row) of each instructor's courses, newest first. */
  const coursesTaughtBy = new DataLoader<CoursesTaughtKey, Course[], string>(
    counted('coursesTaughtBy', (keys) =>
      batchByVariant(keys, (k) => jsonKey([k.all, k.skip, k.take]), async (group) => {
        const { all, skip, take } = group[0]!;
        const instructorIds = uuidKeys(group.map((k) => k.instructorId));
        const rows = instructorIds.length
          ? (
              await prisma.$queryRaw<(Course & { pageRow: bigint })[]>(
                pagesByParent(
                  { table: 'Course', parent: 'instructorId' },
                  instructorIds,
                  taughtFilter(all),
                  Prisma.sql`t."createdAt" DESC, t."id" DESC`,
                  { skip, take },
                ),
              )
            ).map(withoutPageRow)
          : [];
        primeCourses(rows);
        const byInstructor = groupByKeys(group.map((k) => k.instructorId), rows, (r) => r.instructorId);
        return new Map(group.map((k, i) => [k, byInstructor[i]!]));
      })),
    { cacheKeyFn: jsonKey },
  );

  const coursesTaughtCount = new DataLoader<Omit<CoursesTaughtKey, keyof ParentPage>, number, string>(
    counted('coursesTaughtCount', (keys) =>
      batchByVariant(keys, (k) => jsonKey(k.all), async (group) => {
        const instructorIds = uuidKeys(group.map((k) => k.instructorId));
        const rows = instructorIds.length
          ? await prisma.course.groupBy({
              by: ['instructorId'],
              where: { instructorId: { in: instructorIds }, ...(group[0]!.all ? {} : { status: 'PUBLISHED' }) },
              _count: { _all: true },
            })
          : [];
        const counts = orderByKeys(group.map((k) => k.instructorId), rows, (r) => r.instructorId);
        return new Map(group.map((k, i) => [k, counts[i]?._count._all ?? 0]));
      })),
    { cacheKeyFn: jsonKey },
  );

  return {
    courseById,
    courseBySlug,
    lessonById,
    lessonContentById,
    lessonsByCourseId,
    lessonStatsByCourseId,
    enrollmentById,
    viewerEnrollmentByCourseId,
    completedLessonIdsByEnrollmentId,
    enrollmentsOfUser,
    enrollmentCountOfUser,
    coursesTaughtBy,
    coursesTaughtCount,
    primeCourses,
    primeEnrollments,
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** For relations that must exist (a lesson's course): a missing row is NOT_FOUND, not a null. */
export async function loadExisting<T>(loader: DataLoader<string, T | null>, id: string, what: string): Promise<T> {
  const row = await loader.load(id);
  if (row === null) throw notFound(what, id);
  return row;
}
