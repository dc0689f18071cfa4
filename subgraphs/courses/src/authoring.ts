/**
 * Course authoring: create, edit and move courses through DRAFT → PUBLISHED → ARCHIVED (and back to
 * DRAFT). Who may call these is decided in permissions.ts; these enforce the rules of the course
 * itself. Every change writes a CourseUpdated outbox row in its own transaction and, once
 * committed, tells courseUpdated subscribers. A change made by someone other than the course's
 * instructor (an admin) also writes AuditRecorded in that transaction (outbox.ts), as does a course
 * an admin creates for another instructor.
 */
import { badUserInput, conflict, displayText, lineText, longText, notFound, parseInput } from '@campus/kit/core';
import type { AuditDetails } from '@campus/kit/events';
import type { Viewer } from '@campus/kit/identity';
import { z } from 'zod';
import { languageTag } from './catalog.ts';
import { isUniqueViolation, retryOnUniqueViolation, type CoursesDomain } from './domain.ts';
import { CourseCategory, CourseLevel } from './generated/prisma/enums.ts';
import type { Course, CourseStatus, Prisma } from './generated/prisma/client.ts';
import { isValidStoredPrice, moneyInput } from './money.ts';
import { recordCourseChangeBy, recordCourseUpdated } from './outbox.ts';
import { firstFreeSlug, slugify, slugInput } from './slugs.ts';

type Tx = Prisma.TransactionClient;

// The kit's text rules (packages/kit/src/core/validation.ts): a title must show something; only the
// description may span lines.
const title = displayText(120);
const subtitle = lineText(200)
  .nullish()
  .transform((s) => s || null);
const description = longText(20_000);

const createInput = z.object({
  title,
  subtitle,
  description: description.nullish(),
  level: z.enum(CourseLevel).nullish(),
  language: languageTag.nullish(),
  category: z.enum(CourseCategory),
  price: moneyInput.nullish(),
  slug: slugInput.nullish(),
  instructorId: z.uuid('must be a user id').nullish(),
});

const updateInput = z.object({
  courseId: z.uuid('must be a course id'),
  title: title.nullish(),
  subtitle: subtitle.optional(),
  description: description.nullish(),
  level: z.enum(CourseLevel).nullish(),
  language: languageTag.nullish(),
  category: z.enum(CourseCategory).nullish(),
  // undefined keeps the price; null makes the course free.
  price: moneyInput.nullable().optional(),
  slug: slugInput.nullish(),
});

const courseIdInput = z.object({ courseId: z.uuid('must be a course id') });

const slugTaken = () => conflict('Another course already uses this slug. Choose another.', { field: 'input.slug' });

/** The base slug, or the first `base-N` no course uses yet. */
async function freeSlug(tx: Tx, title: string): Promise<string> {
  const base = slugify(title);
  const taken = await tx.course.findMany({ where: { slug: { startsWith: base } }, select: { slug: true } });
  return firstFreeSlug(base, taken.map((c) => c.slug));
}

/** What an audited change records: who, and the action's name (`_by_admin` is added, outbox.ts). */
interface ChangeAudit {
  actor: Viewer;
  action: string;
  details?: AuditDetails;
}

/** Writes the outbox rows with the change, then tells subscribers once it is committed. */
async function commitCourseChange(domain: CoursesDomain, change: (tx: Tx) => Promise<Course>, audit?: ChangeAudit): Promise<Course> {
  const course = await domain.prisma.$transaction(async (tx) => {
    const changed = await change(tx);
    await recordCourseUpdated(tx, changed);
    if (audit) await recordCourseChangeBy(tx, audit.actor, changed, audit.action, audit.details);
    return changed;
  });
  domain.outboxCommitted();
  // Before the mutation answers: the next anonymous catalog read misses the router's cache.
  await domain.catalogChanged();
  await domain.live.courseChanged(course);
  return course;
}

export async function createCourse(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Course> {
  const data = parseInput(createInput, input);
  // Only admins may name another instructor (permissions.ts): a course made in someone else's name is audited.
  const audit = { actor, action: 'courses.course.created' };
  const create = () =>
    commitCourseChange(
      domain,
      async (tx) =>
        tx.course.create({
          data: {
            slug: data.slug ?? (await freeSlug(tx, data.title)),
            title: data.title,
            subtitle: data.subtitle,
            description: data.description ?? '',
            level: data.level ?? 'ALL_LEVELS',
            language: data.language ?? 'en',
            category: data.category,
            priceAmount: data.price?.amount ?? null,
            priceCurrency: data.price?.currency ?? null,
            instructorId: data.instructorId ?? actor.id,
          },
        }),
      audit,
    );
  if (!data.slug) return retryOnUniqueViolation(create); // a generated slug lost a race: pick the next
  try {
    return await create();
  } catch (e) {
    if (isUniqueViolation(e)) throw slugTaken();
    throw e;
  }
}

export async function updateCourse(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Course> {
  const { courseId, price, ...fields } = parseInput(updateInput, input);
  const changes: Prisma.CourseUpdateInput = {};
  if (fields.title != null) changes.title = fields.title;
  if (fields.subtitle !== undefined) changes.subtitle = fields.subtitle;
  if (fields.description != null) changes.description = fields.description;
  if (fields.level != null) changes.level = fields.level;
  if (fields.language != null) changes.language = fields.language;
  if (fields.category != null) changes.category = fields.category;
  if (fields.slug != null) changes.slug = fields.slug;
  if (price !== undefined) {
    changes.priceAmount = price?.amount ?? null;
    changes.priceCurrency = price?.currency ?? null;
  }
  const current = await domain.prisma.course.findUnique({ where: { id: courseId } });
  if (!current) throw notFound('Course', courseId);
  if (Object.keys(changes).length === 0) return current;
  if (current.status === 'PUBLISHED' && changes.description === '') {
    throw badUserInput('input.description', 'input.description: a published course needs a description; unpublish it first to clear it.');
  }
  try {
    return await commitCourseChange(domain, (tx) => tx.course.update({ where: { id: courseId }, data: changes }), {
      actor,
      action: 'courses.course.updated',
      details: { fields: Object.keys(changes).sort().join(',') },
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw slugTaken();
    throw e;
  }
}

export interface PublishProblem {
  field: 'title' | 'description' | 'lessons' | 'price';
  message: string;
}

/** What keeps a course out of the catalog; empty when it may be published. */
export function publishProblems(course: Course, lessonCount: number): PublishProblem[] {
  const problems: PublishProblem[] = [];
  if (!course.title.trim()) problems.push({ field: 'title', message: 'add a title' });
  if (!course.description.trim()) problems.push({ field: 'description', message: 'add a description' });
  if (lessonCount < 1) problems.push({ field: 'lessons', message: 'add at least one lesson' });
  if (!isValidStoredPrice(course)) {
    problems.push({ field: 'price', message: 'set a positive price in an ISO-4217 currency, or make the course free' });
  }
  return problems;
}

/** Locks the course row for the rest of the transaction, so concurrent changes to it queue up. */
export async function lockCourse(tx: Tx, courseId: string): Promise<Course> {
  const [course] = await tx.$queryRaw<Course[]>`SELECT * FROM "Course" WHERE "id" = CAST(${courseId} AS uuid) FOR UPDATE`;
  if (!course) throw notFound('Course', courseId);
  return course;
}

const ACTIONS: Record<CourseStatus, string> = {
  PUBLISHED: 'courses.course.published',
  DRAFT: 'courses.course.unpublished',
  ARCHIVED: 'courses.course.archived',
};

/**
 * Moves a course to `to` from one of `from`; a course already there is returned unchanged (so
 * retrying a publish is harmless). `check` may refuse the move after the row is locked.
 */
async function transition(
  domain: CoursesDomain,
  actor: Viewer,
  input: unknown,
  to: CourseStatus,
  from: CourseStatus[],
  changes: (course: Course) => Prisma.CourseUpdateInput,
  check: (tx: Tx, course: Course) => Promise<void> = async () => {},
): Promise<Course> {
  const { courseId } = parseInput(courseIdInput, input);
  const current = await domain.prisma.course.findUnique({ where: { id: courseId } });
  if (!current) throw notFound('Course', courseId);
  if (current.status === to) return current;
  return commitCourseChange(domain, async (tx) => {
    const course = await lockCourse(tx, courseId);
    if (!from.includes(course.status)) {
      throw conflict(`A ${course.status} course cannot become ${to}.`, { reason: 'INVALID_STATUS_TRANSITION', status: course.status });
    }
    await check(tx, course);
    return tx.course.update({ where: { id: courseId }, data: { status: to, ...changes(course) } });
  }, { actor, action: ACTIONS[to], details: { from: current.status, to } });
}

export function publishCourse(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Course> {
  return transition(
    domain,
    actor,
    input,
    'PUBLISHED',
    ['DRAFT', 'ARCHIVED'],
    (course) => ({ publishedAt: course.publishedAt ?? new Date(), archivedAt: null }),
    async (tx, course) => {
      const problems = publishProblems(course, await tx.lesson.count({ where: { courseId: course.id } }));
      if (problems.length) {
        throw conflict(`This course cannot be published yet: ${problems.map((p) => p.message).join('; ')}.`, {
          reason: 'COURSE_NOT_PUBLISHABLE',
          problems,
        });
      }
    },
  );
}

export function unpublishCourse(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Course> {
  return transition(domain, actor, input, 'DRAFT', ['PUBLISHED', 'ARCHIVED'], () => ({ archivedAt: null }));
}

export function archiveCourse(domain: CoursesDomain, actor: Viewer, input: unknown): Promise<Course> {
  return transition(domain, actor, input, 'ARCHIVED', ['DRAFT', 'PUBLISHED'], () => ({ archivedAt: new Date() }));
}
