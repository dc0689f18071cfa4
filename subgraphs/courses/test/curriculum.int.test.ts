/**
 * The curriculum through the real schema on a real database: lessons stay in a gapless order
 * through inserts, reorders and deletes, and invalid requests change nothing.
 */
import { errorCode } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_LESSON, buildCourse, COMPLETE, COURSE, DELETE_LESSON, ENROLL_FREE, REORDER, UPDATE_LESSON } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

describe('curriculum', () => {
  let h: CoursesHarness;
  let instructor: Person;

  beforeAll(async () => {
    h = await startCourses();
    instructor = await h.person('teacher', 'INSTRUCTOR');
  });
  afterAll(() => h?.close());

  const positions = async (courseId: string) =>
    (await h.service.prisma.lesson.findMany({ where: { courseId }, orderBy: { position: 'asc' } })).map((l) => [l.id, l.position]);

  it('appends lessons by default and inserts at a position, moving later ones down', async () => {
    const course = await buildCourse(h, instructor, { lessons: 3, publish: false });
    const inserted = ok(
      await h.request(ADD_LESSON, { as: instructor, variables: { input: { courseId: course.id, title: 'Inserted', content: 'x', position: 2 } } }),
    ).addLesson.lesson;
    expect(inserted.position).toBe(2);
    expect(await positions(course.id)).toEqual([
      [course.lessonIds[0], 1],
      [inserted.id, 2],
      [course.lessonIds[1], 3],
      [course.lessonIds[2], 4],
    ]);
  });

  it('estimates the reading time of an article and requires a duration for a video', async () => {
    const course = await buildCourse(h, instructor, { lessons: 0, publish: false });
    const words = Array.from({ length: 480 }, () => 'word').join(' ');
    const article = ok(await h.request(ADD_LESSON, { as: instructor, variables: { input: { courseId: course.id, title: 'A', content: words } } }));
    expect(article.addLesson.lesson).toMatchObject({ contentType: 'TEXT', duration: 120 });
    const video = await h.request(ADD_LESSON, {
      as: instructor,
      variables: { input: { courseId: course.id, title: 'V', content: 'https://media.example/v.mp4', contentType: 'VIDEO' } },
    });
    expect(errorCode(video)).toBe('BAD_USER_INPUT');
    expect(video.errors![0]!.extensions!.field).toBe('input.duration');
    const badUrl = await h.request(ADD_LESSON, {
      as: instructor,
      variables: { input: { courseId: course.id, title: 'V', content: 'javascript:alert(1)', contentType: 'VIDEO', duration: 60 } },
    });
    expect(badUrl.errors![0]!.extensions!.field).toBe('input.content');
    expect(await h.service.prisma.lesson.count({ where: { courseId: course.id } })).toBe(1);
  });

  it('refuses a position past the end', async () => {
    const course = await buildCourse(h, instructor, { lessons: 2, publish: false });
    const r = await h.request(ADD_LESSON, { as: instructor, variables: { input: { courseId: course.id, title: 'x', content: 'y', position: 4 } } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.extensions!.field).toBe('input.position');
  });

  it('reorders lessons given the complete list of ids', async () => {
    const course = await buildCourse(h, instructor, { lessons: 4, publish: false });
    const order = [course.lessonIds[3]!, course.lessonIds[0]!, course.lessonIds[2]!, course.lessonIds[1]!];
    const r = ok(await h.request(REORDER, { as: instructor, variables: { input: { courseId: course.id, lessonIds: order } } }));
    expect(r.reorderLessons.course.lessons).toEqual(order.map((id, i) => ({ id, position: i + 1 })));
  });

  it.each([
    ['a missing lesson', (ids: string[]) => ids.slice(1)],
    ['a repeated lesson', (ids: string[]) => [...ids, ids[0]!]],
    ['a lesson of another course', (ids: string[]) => [...ids.slice(1), '00000000-0000-4000-8000-000000000001']],
  ])('refuses a reorder with %s and keeps the order', async (_what, mangle) => {
    const course = await buildCourse(h, instructor, { lessons: 3, publish: false });
    const before = await positions(course.id);
    const r = await h.request(REORDER, { as: instructor, variables: { input: { courseId: course.id, lessonIds: mangle(course.lessonIds) } } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.extensions!.field).toBe('input.lessonIds');
    expect(await positions(course.id)).toEqual(before);
  });

  it('deletes a lesson, closes the gap, and completes learners who had done every other lesson', async () => {
    const course = await buildCourse(h, instructor, { lessons: 3 });
    const learner = await h.person('finisher', 'STUDENT');
    ok(await h.request(ENROLL_FREE, { as: learner, variables: { input: { courseId: course.id } } }));
    for (const lessonId of course.lessonIds.slice(0, 2)) ok(await h.request(COMPLETE, { as: learner, variables: { input: { lessonId } } }));
    const r = ok(await h.request(DELETE_LESSON, { as: instructor, variables: { input: { lessonId: course.lessonIds[2] } } }));
    expect(r.deleteLesson).toEqual({
      deletedLessonId: course.lessonIds[2],
      course: { lessonCount: 2, lessons: [{ id: course.lessonIds[0], position: 1 }, { id: course.lessonIds[1], position: 2 }] },
    });
    const mine = ok(await h.request(COURSE, { as: learner, variables: { id: course.id } }));
    expect(mine.course.viewerEnrollment.status).toBe('COMPLETED');
    const history = await h.service.prisma.enrollmentChange.findMany({ where: { enrollmentId: mine.course.viewerEnrollment.id }, orderBy: { at: 'asc' } });
    expect(history.map((c) => c.toStatus)).toEqual(['ACTIVE', 'COMPLETED']);
  });

  it('recomputes an article duration when its text changes, and needs new content to change the type', async () => {
    const course = await buildCourse(h, instructor, { lessons: 1, publish: false });
    const lessonId = course.lessonIds[0]!;
    const typeOnly = await h.request(UPDATE_LESSON, { as: instructor, variables: { input: { lessonId, contentType: 'VIDEO' } } });
    expect(errorCode(typeOnly)).toBe('BAD_USER_INPUT');
    const longer = Array.from({ length: 720 }, () => 'word').join(' ');
    const updated = ok(await h.request(UPDATE_LESSON, { as: instructor, variables: { input: { lessonId, content: longer, isPreview: true } } }));
    expect(updated.updateLesson.lesson).toMatchObject({ duration: 180, isPreview: true, content: longer });
  });

  it('bumps the course updatedAt on curriculum changes', async () => {
    const course = await buildCourse(h, instructor, { lessons: 1, publish: false });
    const before = (await h.service.prisma.course.findUniqueOrThrow({ where: { id: course.id } })).updatedAt;
    ok(await h.request(ADD_LESSON, { as: instructor, variables: { input: { courseId: course.id, title: 'More', content: 'x' } } }));
    const after = (await h.service.prisma.course.findUniqueOrThrow({ where: { id: course.id } })).updatedAt;
    expect(after.getTime()).toBeGreaterThan(before.getTime());
  });

  it('keeps positions gapless when lessons are added concurrently', async () => {
    const course = await buildCourse(h, instructor, { lessons: 0, publish: false });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => h.request(ADD_LESSON, { as: instructor, variables: { input: { courseId: course.id, title: `L${i}`, content: 'x' } } })),
    );
    for (const r of results) ok(r);
    expect((await positions(course.id)).map(([, p]) => p)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
