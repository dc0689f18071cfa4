/**
 * Enrolling and learning through the real schema on a real database: free enrollment is
 * idempotent, paid and unpublished courses are refused with codes, progress is computed on the
 * server, and the counters and history stay in step with the rows.
 */
import { errorCode } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ENROLL, ARCHIVE, buildCourse, COMPLETE, COURSE, ENROLL_FREE, UNPUBLISH } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

describe('enrollments and progress', () => {
  let h: CoursesHarness;
  let instructor: Person;
  let admin: Person;
  let n = 0;
  const newStudent = () => h.person(`student-${n++}`, 'STUDENT');

  beforeAll(async () => {
    h = await startCourses();
    instructor = await h.person('teacher', 'INSTRUCTOR');
    admin = await h.person('admin', 'ADMIN');
  });
  afterAll(() => h?.close());

  const enrollmentCount = async (courseId: string) => (await h.service.prisma.course.findUniqueOrThrow({ where: { id: courseId } })).enrollmentCount;

  it('enrolls in a free course once, however often it is asked, and counts the learner once', async () => {
    const course = await buildCourse(h, instructor);
    const student = await newStudent();
    const results = await Promise.all([1, 2, 3].map(() => h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: course.id } } })));
    const ids = results.map((r) => ok(r).enrollInFreeCourse.enrollment.id);
    expect(new Set(ids).size).toBe(1);
    expect(ok(results[0]!).enrollInFreeCourse.enrollment).toMatchObject({ status: 'ACTIVE', source: 'FREE', course: { id: course.id } });
    expect(await h.service.prisma.enrollment.count({ where: { userId: student.id } })).toBe(1);
    expect(await enrollmentCount(course.id)).toBe(1);
    expect(await h.service.prisma.enrollmentChange.count({ where: { enrollmentId: ids[0] } })).toBe(1);
  });

  it('refuses a paid course with FORBIDDEN and reason PAYMENT_REQUIRED, and writes nothing', async () => {
    const course = await buildCourse(h, instructor, { price: { amount: 2999, currency: 'USD' } });
    const student = await newStudent();
    const r = await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: course.id } } });
    expect(errorCode(r)).toBe('FORBIDDEN');
    expect(r.errors![0]!.extensions!.reason).toBe('PAYMENT_REQUIRED');
    expect(await h.service.prisma.enrollment.count({ where: { userId: student.id } })).toBe(0);
  });

  it('hides drafts and archived courses from enrollment (NOT_FOUND); to those who see them they are not open (CONFLICT)', async () => {
    const draft = await buildCourse(h, instructor, { publish: false });
    const archived = await buildCourse(h, instructor);
    ok(await h.request(ARCHIVE, { as: instructor, variables: { input: { courseId: archived.id } } }));
    const student = await newStudent();
    expect(errorCode(await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: draft.id } } }))).toBe('NOT_FOUND');
    expect(errorCode(await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: archived.id } } }))).toBe('NOT_FOUND');
    const r = await h.request(ENROLL_FREE, { as: admin, variables: { input: { courseId: archived.id } } });
    expect(errorCode(r)).toBe('CONFLICT');
    expect(r.errors![0]!.extensions!.reason).toBe('COURSE_NOT_OPEN');
  });

  it('requires a signed-in user to enroll', async () => {
    const course = await buildCourse(h, instructor);
    expect(errorCode(await h.request(ENROLL_FREE, { variables: { input: { courseId: course.id } } }))).toBe('UNAUTHENTICATED');
  });

  it('computes progress on the server, completes idempotently, and marks the enrollment COMPLETED after the last lesson', async () => {
    const course = await buildCourse(h, instructor, { lessons: 3 });
    const student = await newStudent();
    ok(await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: course.id } } }));
    const first = ok(await h.request(COMPLETE, { as: student, variables: { input: { lessonId: course.lessonIds[1] } } })).completeLesson.enrollment;
    expect(first.progress).toEqual({ completedLessons: 1, totalLessons: 3, percent: 33, nextLesson: { id: course.lessonIds[0] } });
    const again = ok(await h.request(COMPLETE, { as: student, variables: { input: { lessonId: course.lessonIds[1] } } })).completeLesson.enrollment;
    expect(again.progress.completedLessons).toBe(1);
    expect(await h.service.prisma.lessonProgress.count({ where: { enrollmentId: first.id } })).toBe(1);
    ok(await h.request(COMPLETE, { as: student, variables: { input: { lessonId: course.lessonIds[0] } } }));
    const last = ok(await h.request(COMPLETE, { as: student, variables: { input: { lessonId: course.lessonIds[2] } } })).completeLesson.enrollment;
    expect(last).toMatchObject({ status: 'COMPLETED', progress: { completedLessons: 3, percent: 100, nextLesson: null } });
    expect(last.completedAt).toBeTruthy();
  });

  it('completes the enrollment when the last two lessons are completed at the same time', async () => {
    const course = await buildCourse(h, instructor, { lessons: 2 });
    const student = await newStudent();
    ok(await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: course.id } } }));
    await Promise.all(course.lessonIds.map((lessonId) => h.request(COMPLETE, { as: student, variables: { input: { lessonId } } }).then(ok)));
    const mine = ok(await h.request(COURSE, { as: student, variables: { id: course.id } }));
    expect(mine.course.viewerEnrollment.status).toBe('COMPLETED');
  });

  it('refuses progress in a course the learner is not enrolled in', async () => {
    const course = await buildCourse(h, instructor);
    const student = await newStudent();
    expect(errorCode(await h.request(COMPLETE, { as: student, variables: { input: { lessonId: course.lessonIds[0] } } }))).toBe('FORBIDDEN');
    expect(errorCode(await h.request(COMPLETE, { as: student, variables: { input: { lessonId: '00000000-0000-4000-8000-00000000000f' } } }))).toBe('NOT_FOUND');
  });

  it('lets an admin enroll anyone in a paid course, once', async () => {
    const course = await buildCourse(h, instructor, { price: { amount: 9999, currency: 'EUR' } });
    const student = await newStudent();
    const a = ok(await h.request(ADMIN_ENROLL, { as: admin, variables: { input: { userId: student.id, courseId: course.id } } }));
    const b = ok(await h.request(ADMIN_ENROLL, { as: admin, variables: { input: { userId: student.id, courseId: course.id } } }));
    expect(a.adminEnroll.enrollment).toMatchObject({ status: 'ACTIVE', source: 'ADMIN' });
    expect(b.adminEnroll.enrollment.id).toBe(a.adminEnroll.enrollment.id);
    expect(await enrollmentCount(course.id)).toBe(1);
    expect(errorCode(await h.request(ADMIN_ENROLL, { as: instructor, variables: { input: { userId: student.id, courseId: course.id } } }))).toBe('FORBIDDEN');
  });

  it('keeps an enrolled learner’s access to a course that was unpublished or archived', async () => {
    const course = await buildCourse(h, instructor, { lessons: 1 });
    const student = await newStudent();
    ok(await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: course.id } } }));
    ok(await h.request(UNPUBLISH, { as: instructor, variables: { input: { courseId: course.id } } }));
    const seen = ok(await h.request(`query($id: ID!) { course(id: $id) { status lessons { content } } }`, { as: student, variables: { id: course.id } }));
    expect(seen.course).toEqual({ status: 'DRAFT', lessons: [{ content: 'Secret text of lesson 1.' }] });
    const stranger = await newStudent();
    const hidden = await h.request(`query($id: ID!) { course(id: $id) { title } }`, { as: stranger, variables: { id: course.id } });
    expect(hidden.data?.course).toBeNull();
    expect(errorCode(hidden)).toBe('NOT_FOUND');
  });
});
