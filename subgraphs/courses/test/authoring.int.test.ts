/**
 * Course authoring through the real schema (shield applied) on a real database: the lifecycle,
 * the publish checks, the outbox row written with every change, and bad input leaving nothing behind.
 */
import { errorCode } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_LESSON, ARCHIVE, buildCourse, CREATE_COURSE, PUBLISH, UNPUBLISH, UPDATE_COURSE } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

describe('course authoring', () => {
  let h: CoursesHarness;
  let instructor: Person;
  let admin: Person;

  beforeAll(async () => {
    h = await startCourses();
    instructor = await h.person('author', 'INSTRUCTOR');
    admin = await h.person('admin', 'ADMIN');
  });
  afterAll(() => h?.close());

  const outboxCount = () => h.service.prisma.outboxEvent.count({ where: { type: 'CourseUpdated' } });
  const courseCount = () => h.service.prisma.course.count();

  it('creates a DRAFT course taught by the instructor, with a slug from its title and a CourseUpdated outbox row', async () => {
    const before = await outboxCount();
    const r = await h.request(CREATE_COURSE, {
      as: instructor,
      variables: { input: { title: 'Écrire du TypeScript', category: 'DEVELOPMENT', price: { amount: 1500, currency: 'jpy' } } },
    });
    const course = ok(r).createCourse.course;
    expect(course).toMatchObject({ slug: 'ecrire-du-typescript', status: 'DRAFT', isFree: false, price: { amount: 1500, currency: 'JPY' } });
    expect(course.instructor.id).toBe(instructor.id);
    expect(await outboxCount()).toBe(before + 1);
    const row = await h.service.prisma.outboxEvent.findFirst({ orderBy: { seq: 'desc' } });
    expect(row).toMatchObject({ publishedAt: null, payload: { courseId: course.id, status: 'DRAFT', price: { amount: 1500, currency: 'JPY' } } });
  });

  it('gives a second course with the same title the next free slug', async () => {
    const a = ok(await h.request(CREATE_COURSE, { as: instructor, variables: { input: { title: 'Same Title', category: 'DESIGN' } } }));
    const b = ok(await h.request(CREATE_COURSE, { as: instructor, variables: { input: { title: 'Same Title', category: 'DESIGN' } } }));
    expect([a.createCourse.course.slug, b.createCourse.course.slug]).toEqual(['same-title', 'same-title-2']);
  });

  it('refuses a slug another course uses with CONFLICT naming input.slug', async () => {
    const r = await h.request(CREATE_COURSE, { as: instructor, variables: { input: { title: 'Other', slug: 'same-title', category: 'DESIGN' } } });
    expect(errorCode(r)).toBe('CONFLICT');
    expect(r.errors![0]!.extensions!.field).toBe('input.slug');
  });

  it.each([
    [{ title: '', category: 'DESIGN' }, 'input.title'],
    [{ title: 'x'.repeat(121), category: 'DESIGN' }, 'input.title'],
    [{ title: 'Priced', category: 'DESIGN', price: { amount: 0, currency: 'USD' } }, 'input.price.amount'],
    [{ title: 'Priced', category: 'DESIGN', price: { amount: -5, currency: 'USD' } }, 'input.price.amount'],
    [{ title: 'Priced', category: 'DESIGN', price: { amount: 100, currency: 'XYZ' } }, 'input.price.currency'],
    [{ title: 'Lang', category: 'DESIGN', language: 'not a language!' }, 'input.language'],
    [{ title: 'Slug', category: 'DESIGN', slug: 'Not A Slug' }, 'input.slug'],
  ])('refuses %j with BAD_USER_INPUT naming %s and writes nothing', async (input, field) => {
    const [courses, events] = [await courseCount(), await outboxCount()];
    const r = await h.request(CREATE_COURSE, { as: instructor, variables: { input } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.extensions!.field).toBe(field);
    expect([await courseCount(), await outboxCount()]).toEqual([courses, events]);
  });

  it('refuses a fractional price at the GraphQL layer', async () => {
    const r = await h.request(CREATE_COURSE, { as: instructor, variables: { input: { title: 'F', category: 'DESIGN', price: { amount: 19.99, currency: 'USD' } } } });
    expect(r.errors?.length).toBeGreaterThan(0);
  });

  it('refuses to publish until the course has a description and a lesson, listing what is missing, and writes no outbox row', async () => {
    const created = ok(await h.request(CREATE_COURSE, { as: instructor, variables: { input: { title: 'Unfinished', category: 'MUSIC' } } }));
    const id = created.createCourse.course.id;
    const before = await outboxCount();
    const r = await h.request(PUBLISH, { as: instructor, variables: { input: { courseId: id } } });
    expect(errorCode(r)).toBe('CONFLICT');
    expect(r.errors![0]!.extensions).toMatchObject({ reason: 'COURSE_NOT_PUBLISHABLE' });
    expect(r.errors![0]!.extensions!.problems.map((p: { field: string }) => p.field).sort()).toEqual(['description', 'lessons']);
    expect(await outboxCount()).toBe(before);
    expect((await h.service.prisma.course.findUniqueOrThrow({ where: { id } })).status).toBe('DRAFT');
  });

  it('publishes, unpublishes back to DRAFT, archives, and keeps the first publication date', async () => {
    const course = await buildCourse(h, instructor, { publish: false });
    const published = ok(await h.request(PUBLISH, { as: instructor, variables: { input: { courseId: course.id } } })).publishCourse.course;
    expect(published.status).toBe('PUBLISHED');
    expect(published.publishedAt).toBeTruthy();
    const again = ok(await h.request(PUBLISH, { as: instructor, variables: { input: { courseId: course.id } } })).publishCourse.course;
    expect(again).toEqual(published);
    expect(ok(await h.request(UNPUBLISH, { as: instructor, variables: { input: { courseId: course.id } } })).unpublishCourse.course.status).toBe('DRAFT');
    const republished = ok(await h.request(PUBLISH, { as: instructor, variables: { input: { courseId: course.id } } })).publishCourse.course;
    expect(republished.publishedAt).toBe(published.publishedAt);
    expect(ok(await h.request(ARCHIVE, { as: instructor, variables: { input: { courseId: course.id } } })).archiveCourse.course.status).toBe('ARCHIVED');
    const events = await h.service.prisma.outboxEvent.findMany({ orderBy: { seq: 'asc' } });
    const statuses = events.filter((e) => (e.payload as { courseId: string }).courseId === course.id).map((e) => (e.payload as { status: string }).status);
    expect(statuses).toEqual(['DRAFT', 'PUBLISHED', 'DRAFT', 'PUBLISHED', 'ARCHIVED']);
  });

  it('changes only the fields given; price null makes a course free; an omitted price is kept', async () => {
    const course = await buildCourse(h, instructor, { price: { amount: 4999, currency: 'EUR' } });
    const renamed = ok(await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: course.id, title: 'Renamed' } } }));
    expect(renamed.updateCourse.course).toMatchObject({ title: 'Renamed', price: { amount: 4999, currency: 'EUR' }, isFree: false });
    const free = ok(await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: course.id, price: null } } }));
    expect(free.updateCourse.course).toMatchObject({ title: 'Renamed', price: null, isFree: true });
  });

  it('refuses to clear the description of a published course', async () => {
    const course = await buildCourse(h, instructor);
    const r = await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: course.id, description: '  ' } } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.extensions!.field).toBe('input.description');
  });

  it('lets an admin create a course for an instructor, and nobody else choose the instructor', async () => {
    const byAdmin = ok(await h.request(CREATE_COURSE, { as: admin, variables: { input: { title: 'Assigned', category: 'BUSINESS', instructorId: instructor.id } } }));
    expect(byAdmin.createCourse.course.instructor.id).toBe(instructor.id);
    const other = await h.person('other-author', 'INSTRUCTOR');
    const r = await h.request(CREATE_COURSE, { as: other, variables: { input: { title: 'Assigned', category: 'BUSINESS', instructorId: instructor.id } } });
    expect(errorCode(r)).toBe('FORBIDDEN');
  });

  it('answers NOT_FOUND for a course that does not exist', async () => {
    const r = await h.request(ADD_LESSON, {
      as: instructor,
      variables: { input: { courseId: '00000000-0000-4000-8000-000000000000', title: 'x', content: 'y' } },
    });
    expect(errorCode(r)).toBe('NOT_FOUND');
  });
});
