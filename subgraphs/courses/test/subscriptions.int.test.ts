/**
 * The courses subscriptions at the subgraph, over graphql-ws with router-signed upgrades, as the
 * router's subscription executor will use them: authorized by graphql-shield when subscribing,
 * filtered per viewer, and read afresh for every event.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { waitFor, type Subscription } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAfterPurchase } from '@campus/courses/fulfillment';
import { ADD_LESSON, ADMIN_ENROLL, buildCourse, COMPLETE, ENROLL_FREE, PUBLISH, UNPUBLISH, UPDATE_COURSE, type BuiltCourse } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

const COURSE_UPDATED = `subscription($id: ID!) { courseUpdated(id: $id) { id title status lessonCount } }`;
const LESSON_PUBLISHED = `subscription($courseId: ID!) { lessonPublished(courseId: $courseId) { id title position content course { id } } }`;
const MY_ENROLLMENTS = `subscription { myEnrollmentUpdates { id status source course { id } } }`;
const PROGRESS = `subscription($courseId: ID!) { progressUpdated(courseId: $courseId) { id status progress { completedLessons percent } } }`;

/** A refused subscription ends at once; its refusal arrives as a result with errors. */
async function refusal(sub: Subscription): Promise<string | undefined> {
  const end = await sub.ended;
  const errors = (Array.isArray(end.error) ? end.error : sub.results[0]?.errors) as { extensions?: { code?: string } }[] | undefined;
  expect(sub.results.every((r) => !r.data)).toBe(true);
  return errors?.[0]?.extensions?.code;
}

describe('subscriptions at the courses subgraph', () => {
  let h: CoursesHarness;
  let instructor: Person;
  let student: Person;
  let course: BuiltCourse;

  beforeAll(async () => {
    h = await startCourses();
    instructor = await h.person('teacher', 'INSTRUCTOR');
    student = await h.person('learner', 'STUDENT');
    course = await buildCourse(h, instructor, { lessons: 2 });
  });
  afterAll(() => h?.close());

  it('refuses an unsigned upgrade', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(h.url, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('response', (res) => resolve(res.statusCode));
      req.on('upgrade', () => resolve(101));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('tells anyone about changes to a published course', async () => {
    const socket = await h.ws();
    const sub = socket.subscribe(COURSE_UPDATED, { id: course.id });
    await waitForListeners(h, 1);
    ok(await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: course.id, title: 'Retitled' } } }));
    expect((await sub.nth(0)).data).toEqual({ courseUpdated: { id: course.id, title: 'Retitled', status: 'PUBLISHED', lessonCount: 2 } });
    sub.unsubscribe();
  });

  it('keeps drafts to their instructor: anonymous UNAUTHENTICATED, other students FORBIDDEN, unknown NOT_FOUND', async () => {
    const draft = await buildCourse(h, instructor, { publish: false });
    const anonymous = (await h.ws()).subscribe(COURSE_UPDATED, { id: draft.id });
    expect(await refusal(anonymous)).toBe('UNAUTHENTICATED');
    const other = (await h.ws(student)).subscribe(COURSE_UPDATED, { id: draft.id });
    expect(await refusal(other)).toBe('FORBIDDEN');
    const unknown = (await h.ws(student)).subscribe(COURSE_UPDATED, { id: randomUUID() });
    expect(await refusal(unknown)).toBe('NOT_FOUND');

    const own = (await h.ws(instructor)).subscribe(COURSE_UPDATED, { id: draft.id });
    await waitForListeners(h, 1);
    ok(await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: draft.id, title: 'Draft v2' } } }));
    expect((await own.nth(0)).data?.courseUpdated.title).toBe('Draft v2');
    own.unsubscribe();
  });

  it('stops telling a public subscriber about a course once it is unpublished', async () => {
    const live = await buildCourse(h, instructor);
    const publicSub = (await h.ws(student)).subscribe(COURSE_UPDATED, { id: live.id });
    const ownerSub = (await h.ws(instructor)).subscribe(COURSE_UPDATED, { id: live.id });
    await waitForListeners(h, 2);
    ok(await h.request(UNPUBLISH, { as: instructor, variables: { input: { courseId: live.id } } }));
    ok(await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: live.id, title: 'Secret rework' } } }));
    expect((await ownerSub.nth(1)).data?.courseUpdated).toMatchObject({ status: 'DRAFT', title: 'Secret rework' });
    // Published again: the public subscriber's first event is this one; the two draft events were dropped.
    ok(await h.request(PUBLISH, { as: instructor, variables: { input: { courseId: live.id } } }));
    expect((await publicSub.nth(0)).data?.courseUpdated).toMatchObject({ status: 'PUBLISHED' });
    expect(publicSub.results).toHaveLength(1);
    publicSub.unsubscribe();
    ownerSub.unsubscribe();
  });

  it('tells enrolled learners about new lessons, with content they may read; refuses those not enrolled', async () => {
    const learner = await h.person('lesson-follower', 'STUDENT');
    ok(await h.request(ENROLL_FREE, { as: learner, variables: { input: { courseId: course.id } } }));
    const refused = (await h.ws(student)).subscribe(LESSON_PUBLISHED, { courseId: course.id });
    expect(await refusal(refused)).toBe('FORBIDDEN');
    const anonymous = (await h.ws()).subscribe(LESSON_PUBLISHED, { courseId: course.id });
    expect(await refusal(anonymous)).toBe('UNAUTHENTICATED');

    const sub = (await h.ws(learner)).subscribe(LESSON_PUBLISHED, { courseId: course.id });
    await waitForListeners(h, 1);
    const added = ok(await h.request(ADD_LESSON, { as: instructor, variables: { input: { courseId: course.id, title: 'Bonus', content: 'Bonus text.' } } }));
    expect((await sub.nth(0)).data).toEqual({
      lessonPublished: { id: added.addLesson.lesson.id, title: 'Bonus', position: 3, content: 'Bonus text.', course: { id: course.id } },
    });
    sub.unsubscribe();
  });

  it("tells a user about their own enrollments only, including those made by payments and admins", async () => {
    const admin = await h.person('admin', 'ADMIN');
    const me = await h.person('watcher', 'STUDENT');
    const someoneElse = await h.person('someone-else', 'STUDENT');
    const sub = (await h.ws(me)).subscribe(MY_ENROLLMENTS);
    await waitForListeners(h, 1);
    ok(await h.request(ENROLL_FREE, { as: someoneElse, variables: { input: { courseId: course.id } } }));
    ok(await h.request(ENROLL_FREE, { as: me, variables: { input: { courseId: course.id } } }));
    const paid = await buildCourse(h, instructor, { price: { amount: 1500, currency: 'JPY' } });
    await enrollAfterPurchase(h.service.domain, { eventId: randomUUID(), userId: me.id, courseId: paid.id, paymentId: 'pay_1' });
    const another = await buildCourse(h, instructor, { price: { amount: 999, currency: 'GBP' } });
    ok(await h.request(ADMIN_ENROLL, { as: admin, variables: { input: { userId: me.id, courseId: another.id } } }));
    const results = await Promise.all([0, 1, 2].map((i) => sub.nth(i)));
    expect(results.map((r) => r.data?.myEnrollmentUpdates)).toEqual([
      expect.objectContaining({ status: 'ACTIVE', source: 'FREE', course: { id: course.id } }),
      expect.objectContaining({ status: 'ACTIVE', source: 'PURCHASE', course: { id: paid.id } }),
      expect.objectContaining({ status: 'ACTIVE', source: 'ADMIN', course: { id: another.id } }),
    ]);
    sub.unsubscribe();
  });

  it('reports the learner’s progress afresh with every completed lesson', async () => {
    const learner = await h.person('progressing', 'STUDENT');
    const target = await buildCourse(h, instructor, { lessons: 2 });
    ok(await h.request(ENROLL_FREE, { as: learner, variables: { input: { courseId: target.id } } }));
    const sub = (await h.ws(learner)).subscribe(PROGRESS, { courseId: target.id });
    const anonymous = (await h.ws()).subscribe(PROGRESS, { courseId: target.id });
    expect(await refusal(anonymous)).toBe('UNAUTHENTICATED');
    await waitForListeners(h, 1);
    for (const lessonId of target.lessonIds) ok(await h.request(COMPLETE, { as: learner, variables: { input: { lessonId } } }));
    expect((await sub.nth(0)).data?.progressUpdated).toMatchObject({ status: 'ACTIVE', progress: { completedLessons: 1, percent: 50 } });
    expect((await sub.nth(1)).data?.progressUpdated).toMatchObject({ status: 'COMPLETED', progress: { completedLessons: 2, percent: 100 } });
    sub.unsubscribe();
  });

  it('leaves no listener behind when a client unsubscribes', async () => {
    const sub = (await h.ws()).subscribe(COURSE_UPDATED, { id: course.id });
    await waitForListeners(h, 1);
    sub.unsubscribe();
    await waitForListeners(h, 0);
  });
});

/** Waits until graphql-ws holds exactly `n` live subscriptions (so publishing now reaches them). */
function waitForListeners(h: CoursesHarness, n: number, timeoutMs = 10_000): Promise<true> {
  return waitFor(() => h.service.server.liveSubscriptions().subscriptions === n, `${n} live subscriptions`, { timeoutMs, intervalMs: 10 });
}
