/**
 * `_entities`, the federation entry point the router (and payments) call: allowed by the shield,
 * answered from one batched statement per type, and still subject to every field rule.
 */
import { errorCode } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCourse, ENROLL_FREE, type BuiltCourse } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

const COURSES = /* GraphQL */ `
  query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Course { id title status lessons { title content } } } }
`;
const ENROLLMENTS = /* GraphQL */ `
  query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Enrollment { id status progress { percent } } } }
`;
const USER_ENROLLMENTS = /* GraphQL */ `
  query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id enrollments { totalCount } coursesTaught { totalCount } } } }
`;

describe('_entities with the shield applied', () => {
  let h: CoursesHarness;
  let instructor: Person;
  let learner: Person;
  let stranger: Person;
  let published: BuiltCourse[];
  let draft: BuiltCourse;

  beforeAll(async () => {
    h = await startCourses();
    instructor = await h.person('teacher', 'INSTRUCTOR');
    learner = await h.person('learner', 'STUDENT');
    stranger = await h.person('stranger', 'STUDENT');
    published = [];
    for (let i = 0; i < 4; i++) published.push(await buildCourse(h, instructor, { lessons: 2, previews: 1 }));
    draft = await buildCourse(h, instructor, { publish: false });
    ok(await h.request(ENROLL_FREE, { as: learner, variables: { input: { courseId: published[0]!.id } } }));
  });
  afterAll(() => h?.close());

  it('answers the _service query anonymously', async () => {
    const r = ok(await h.request('{ _service { sdl } }'));
    expect(r._service.sdl).toContain('type Course');
  });

  it('resolves N course references with one statement for the courses and one for their lessons', async () => {
    const statements: string[] = [];
    const stop = h.service.onStatement((sql) => statements.push(sql));
    const r = await h.request(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Course { id title lessons { title } } } }`, {
      variables: { reps: published.map((c) => ({ __typename: 'Course', id: c.id })) },
    });
    stop();
    expect(ok(r)._entities.map((c: { id: string }) => c.id)).toEqual(published.map((c) => c.id));
    const mine = statements.filter((s) => !/OutboxEvent|^\s*(--|COMMIT|BEGIN)/.test(s));
    expect(mine).toHaveLength(2);
  });

  it('shows lesson content through _entities only to those allowed: previews to all, the rest to enrolled learners', async () => {
    const reps = [{ __typename: 'Course', id: published[0]!.id }];
    const enrolled = ok(await h.request(COURSES, { as: learner, variables: { reps } }));
    expect(enrolled._entities[0].lessons.map((l: { content: string }) => l.content)).toEqual(['Secret text of lesson 1.', 'Secret text of lesson 2.']);

    const other = await h.request(COURSES, { as: stranger, variables: { reps } });
    expect(errorCode(other)).toBe('FORBIDDEN');
    expect(other.errors![0]!.path).toEqual(['_entities', 0, 'lessons', 1, 'content']);
    expect(other.data!._entities[0].lessons).toEqual([{ title: 'Lesson 1', content: 'Secret text of lesson 1.' }, { title: 'Lesson 2', content: null }]);

    const anonymous = await h.request(COURSES, { variables: { reps } });
    expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
  });

  it('hides a draft course reached through _entities from everyone but its instructor and admins', async () => {
    const reps = [{ __typename: 'Course', id: draft.id }];
    const hidden = await h.request(COURSES, { as: stranger, variables: { reps } });
    expect(hidden.data!._entities).toEqual([null]);
    expect(errorCode(hidden)).toBe('FORBIDDEN');
    const own = ok(await h.request(COURSES, { as: instructor, variables: { reps } }));
    expect(own._entities[0]).toMatchObject({ id: draft.id, status: 'DRAFT' });
  });

  it("hides an enrollment reached through _entities from anyone but the learner, the course's instructor and admins", async () => {
    const enrollment = await h.service.prisma.enrollment.findFirstOrThrow({ where: { userId: learner.id } });
    const reps = [{ __typename: 'Enrollment', id: enrollment.id }];
    expect(ok(await h.request(ENROLLMENTS, { as: learner, variables: { reps } }))._entities[0]).toMatchObject({ status: 'ACTIVE' });
    expect(ok(await h.request(ENROLLMENTS, { as: instructor, variables: { reps } }))._entities[0]).toMatchObject({ status: 'ACTIVE' });
    const other = await h.request(ENROLLMENTS, { as: stranger, variables: { reps } });
    expect(other.data!._entities).toEqual([null]);
    expect(errorCode(other)).toBe('FORBIDDEN');
  });

  it("shows a user's enrollments only to themselves and admins, and their drafts only to themselves", async () => {
    const reps = [{ __typename: 'User', id: instructor.id }];
    const self = ok(await h.request(USER_ENROLLMENTS, { as: instructor, variables: { reps } }));
    expect(self._entities[0]).toEqual({ id: instructor.id, enrollments: { totalCount: 0 }, coursesTaught: { totalCount: 5 } });
    const other = await h.request(USER_ENROLLMENTS, { as: stranger, variables: { reps } });
    expect(errorCode(other)).toBe('FORBIDDEN');
    const publicView = ok(await h.request(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { coursesTaught { totalCount } } } }`, { variables: { reps } }));
    expect(publicView._entities[0].coursesTaught.totalCount).toBe(4);
  });

  it('answers null for references to things that do not exist, including malformed ids', async () => {
    const r = ok(await h.request(COURSES, { variables: { reps: [{ __typename: 'Course', id: 'nope' }, { __typename: 'Course', id: '00000000-0000-4000-8000-000000000000' }] } }));
    expect(r._entities).toEqual([null, null]);
  });

  it('refuses requests that do not come from the router', async () => {
    const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ _service { sdl } }' }) });
    expect(res.status).toBe(403);
  });
});
