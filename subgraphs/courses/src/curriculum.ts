/**
 * The curriculum: lessons in a gapless 1-based order. Every change first bumps the course's
 * updatedAt, which also locks the course row, so concurrent edits of one course queue up instead of
 * computing positions from each other's half-written state. A change made by someone other than the
 * course's instructor (an admin) writes AuditRecorded in its transaction (outbox.ts).
 */
import { badUserInput, conflict, displayText, longText, notFound, parseInput } from '@campus/kit/core';
import { z } from 'zod';
import { LessonContentType } from './generated/prisma/enums.ts';
import type { Course, Lesson, Prisma } from './generated/prisma/client.ts';
import type { Viewer } from '@campus/kit/identity';
import type { CoursesDomain } from './domain.ts';
import { recordCourseChangeBy } from './outbox.ts';

type Tx = Prisma.TransactionClient;

/** The lesson list is not paginated (Course.lessons), so it must stay bounded. */
export const MAX_LESSONS_PER_COURSE = 1000;
export const MAX_DURATION_SECONDS = 24 * 3600;
const WORDS_PER_MINUTE = 240;

const title = displayText(200);
const duration = z
  .number()
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1 second')
  .max(MAX_DURATION_SECONDS, `must be at most ${MAX_DURATION_SECONDS} seconds`);

const addInput = z.object({
  courseId: z.uuid('must be a course id'),
  title,
  content: z.string(),
  contentType: z.enum(LessonContentType).nullish(),
  duration: duration.nullish(),
  isPreview: z.boolean().nullish(),
  position: z.number().int().min(1, 'must be 1 or more').nullish(),
});

const updateInput = z.object({
  lessonId: z.uuid('must be a lesson id'),
  title: title.nullish(),
  content: z.string().nullish(),
  contentType: z.enum(LessonContentType).nullish(),
  duration: duration.nullish(),
  isPreview: z.boolean().nullish(),
});

const reorderInput = z.object({ courseId: z.uuid('must be a course id'), lessonIds: z.array(z.string()) });
const lessonIdInput = z.object({ lessonId: z.uuid('must be a lesson id') });

const articleText = longText(100_000).min(1, 'must not be empty');
const videoUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of the video' }).max(2048);

/** Content checked against its type; the error names input.content. */
function checkedContent(type: LessonContentType, content: string): string {
  return parseInput(z.object({ content: type === 'VIDEO' ? videoUrl : articleText }), { content }).content;
}

/** Reading time of an article: 240 words a minute, at least a minute. */
export function readingSeconds(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(60, Math.ceil((words / WORDS_PER_MINUTE) * 60));
}

function durationFor(type: LessonContentType, content: string, given: number | null | undefined): number {
  if (given != null) return given;
  if (type === 'VIDEO') throw badUserInput('input.duration', 'input.duration: required for a VIDEO lesson (its length in seconds).');
  return readingSeconds(content);
}

/** Bumps updatedAt (curriculum changes are course changes) and holds the row lock until commit. */
async function touchCourse(tx: Tx, courseId: string): Promise<Course> {
  const [course] = await tx.course.updateManyAndReturn({ where: { id: courseId }, data: { updatedAt: new Date() } });
  if (!course) throw notFound('Course', courseId);
  return course;
}

async function lessonIdsInOrder(tx: Tx, courseId: string): Promise<string[]> {
  const rows = await tx.lesson.findMany({ where: { courseId }, orderBy: { position: 'asc' }, select: { id: true } });
  return rows.map((r) => r.id);
}

/**
 * Gives the course's lessons positions 1..n in the order of `orderedIds`. PostgreSQL checks a
 * unique index row by row, so moving lessons straight to their new places would collide midway;
 * parking every position at its negative first frees all the targets. Two statements, however
 * many lessons.
 */
async function renumber(tx: Tx, courseId: string, orderedIds: string[]): Promise<void> {
  await tx.$executeRaw`UPDATE "Lesson" SET "position" = -"position" WHERE "courseId" = CAST(${courseId} AS uuid) AND "position" > 0`;
  if (orderedIds.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Lesson" AS l SET "position" = v.ord
      FROM unnest(CAST(${orderedIds} AS uuid[])) WITH ORDINALITY AS v(id, ord)
     WHERE l."id" = v.id AND l."courseId" = CAST(${courseId} AS uuid)`;
}

/**
 * Enrollments that were one lesson short and lost that lesson are now complete. One statement
 * marks them and records the change in their history.
 */
async function completeFinishedEnrollments(tx: Tx, courseId: string): Promise<void> {
  await tx.$executeRaw`
    WITH total AS (SELECT count(*) AS n FROM "Lesson" WHERE "courseId" = CAST(${courseId} AS uuid)),
    done AS (
      UPDATE "Enrollment" e SET "status" = 'COMPLETED', "completedAt" = now(), "updatedAt" = now()
        FROM total
       WHERE e."courseId" = CAST(${courseId} AS uuid) AND e."status" = 'ACTIVE' AND total.n > 0
         AND (SELECT count(*) FROM "LessonProgress" p WHERE p."enrollmentId" = e."id") >= total.n
      RETURNING e."id"
    )
    INSERT INTO "EnrollmentChange" ("id", "enrollmentId", "fromStatus", "toStatus", "reason")
    SELECT gen_random_uuid(), done."id", 'ACTIVE', 'COMPLETED', 'completed' FROM done`;
}

async function afterCurriculumChange(domain: CoursesDomain, course: Course): Promise<void> {
  // An admin's change wrote an audit entry: relay it now rather than at the next poll.
  domain.outboxCommitted();
  // Lessons (titles, order, durations, counts) are on catalog pages: cached ones go stale now.
  await domain.catalogChanged();
  await domain.live.courseChanged(course);
}

export async function addLesson(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Lesson> {
  const data = parseInput(addInput, input);
  const type = data.contentType ?? 'TEXT';
  const content = checkedContent(type, data.content);
  const durationSeconds = durationFor(type, content, data.duration);
  const { course, lesson } = await domain.prisma.$transaction(async (tx) => {
    const course = await touchCourse(tx, data.courseId);
    const ids = await lessonIdsInOrder(tx, course.id);
    if (ids.length >= MAX_LESSONS_PER_COURSE) {
      throw conflict(`A course holds at most ${MAX_LESSONS_PER_COURSE} lessons.`, { reason: 'TOO_MANY_LESSONS' });
    }
    const position = data.position ?? ids.length + 1;
    if (position > ids.length + 1) {
      throw badUserInput('input.position', `input.position: must be between 1 and ${ids.length + 1}.`);
    }
    // Created last (that place is free: the course row is locked), then moved where it belongs.
    const created = await tx.lesson.create({
      data: { courseId: course.id, position: ids.length + 1, title: data.title, contentType: type, content, durationSeconds, isPreview: data.isPreview ?? false },
    });
    if (position <= ids.length) await renumber(tx, course.id, [...ids.slice(0, position - 1), created.id, ...ids.slice(position - 1)]);
    const lesson = { ...created, position };
    await recordCourseChangeBy(tx, actor, course, 'courses.lesson.added', { lessonId: lesson.id });
    return { course, lesson };
  });
  await afterCurriculumChange(domain, course);
  // A lesson added to a live course is live at once: enrolled learners hear about it.
  if (course.status === 'PUBLISHED') await domain.live.lessonPublished(lesson);
  return lesson;
}

export async function updateLesson(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Lesson> {
  const data = parseInput(updateInput, input);
  const { course, lesson } = await domain.prisma.$transaction(async (tx) => {
    const current = await tx.lesson.findUnique({ where: { id: data.lessonId } });
    if (!current) throw notFound('Lesson', data.lessonId);
    const type = data.contentType ?? current.contentType;
    if (type !== current.contentType && data.content == null) {
      throw badUserInput('input.content', 'input.content: give the new content when changing contentType.');
    }
    const content = data.content != null ? checkedContent(type, data.content) : undefined;
    const changes: Prisma.LessonUpdateInput = {};
    if (data.title != null) changes.title = data.title;
    if (data.isPreview != null) changes.isPreview = data.isPreview;
    if (content !== undefined) {
      changes.content = content;
      changes.contentType = type;
      // New text gets a new reading time; a new URL of the same video type keeps its length.
      const kept = type === 'VIDEO' && current.contentType === 'VIDEO' ? current.durationSeconds : undefined;
      changes.durationSeconds = durationFor(type, content, data.duration ?? kept);
    } else if (data.duration != null) {
      changes.durationSeconds = data.duration;
    }
    const course = await touchCourse(tx, current.courseId);
    const lesson = Object.keys(changes).length ? await tx.lesson.update({ where: { id: current.id }, data: changes }) : current;
    await recordCourseChangeBy(tx, actor, course, 'courses.lesson.updated', { lessonId: lesson.id, fields: Object.keys(changes).sort().join(',') });
    return { course, lesson };
  });
  await afterCurriculumChange(domain, course);
  return lesson;
}

export async function reorderLessons(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Course> {
  const { courseId, lessonIds } = parseInput(reorderInput, input);
  const course = await domain.prisma.$transaction(async (tx) => {
    const course = await touchCourse(tx, courseId);
    const current = await lessonIdsInOrder(tx, courseId);
    const known = new Set(current);
    const seen = new Set<string>();
    for (const id of lessonIds) {
      if (seen.has(id)) throw badUserInput('input.lessonIds', `input.lessonIds: lists lesson ${id} twice.`);
      if (!known.has(id)) throw badUserInput('input.lessonIds', `input.lessonIds: ${id} is not a lesson of this course.`);
      seen.add(id);
    }
    const missing = current.filter((id) => !seen.has(id));
    if (missing.length) {
      throw badUserInput('input.lessonIds', `input.lessonIds: must list every lesson of the course; missing ${missing.join(', ')}.`);
    }
    await renumber(tx, courseId, lessonIds);
    await recordCourseChangeBy(tx, actor, course, 'courses.lessons.reordered');
    return course;
  });
  await afterCurriculumChange(domain, course);
  return course;
}

export async function deleteLesson(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<{ deletedLessonId: string; course: Course }> {
  const { lessonId } = parseInput(lessonIdInput, input);
  const course = await domain.prisma.$transaction(async (tx) => {
    const lesson = await tx.lesson.findUnique({ where: { id: lessonId }, select: { courseId: true } });
    if (!lesson) throw notFound('Lesson', lessonId);
    const course = await touchCourse(tx, lesson.courseId);
    // Learners' progress on the lesson goes with it (cascade); the rest keep their order.
    await tx.lesson.delete({ where: { id: lessonId } });
    await renumber(tx, course.id, await lessonIdsInOrder(tx, course.id));
    await completeFinishedEnrollments(tx, course.id);
    await recordCourseChangeBy(tx, actor, course, 'courses.lesson.deleted', { lessonId });
    return course;
  });
  await afterCurriculumChange(domain, course);
  return { deletedLessonId: lessonId, course };
}
