/**
 * The authorization matrix through the router: every role against every
 * operation of the courses subgraph, with the outcome the design asks for. Anonymous callers are
 * told to sign in (UNAUTHENTICATED), signed-in callers without the right are FORBIDDEN; a course
 * the caller may not see is NOT_FOUND to everyone, as if it did not exist.
 */
import { errorCode, graphql } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { logInAs, newAccount, type Account } from './router-clients.ts';

const ROLES = ['anonymous', 'student', 'enrolled student', 'course instructor', 'other instructor', 'admin'] as const;
type Who = (typeof ROLES)[number];
type Outcome = 'ok' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';

interface Fixtures {
  accounts: Record<Who, Account | undefined>;
  /** Published, free, two lessons (the first a preview); the enrolled student is enrolled. */
  published: { id: string; preview: string; locked: string };
  draft: string;
  /** Courses the mutations work on, one per operation, taught by the course instructor. */
  editable: Record<string, string>;
  /** Lessons of a published course, one per role, for deleteLesson. */
  deletable: string[];
}

interface Operation {
  name: string;
  /** What each role gets, in ROLES order. */
  expect: [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];
  run(f: Fixtures, roleIndex: number): { query: string; variables?: Record<string, unknown> };
}

const ALL_OK: Operation['expect'] = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'];
const AUTHORS: Operation['expect'] = ['UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'ok', 'FORBIDDEN', 'ok'];

const OPERATIONS: Operation[] = [
  { name: 'browse the catalog', expect: ALL_OK, run: () => ({ query: '{ courses(first: 5) { totalCount edges { node { title lessonCount } } } }' }) },
  { name: 'view a published course and its outline', expect: ALL_OK, run: (f) => ({ query: `query($id: ID!) { course(id: $id) { title lessons { title } } }`, variables: { id: f.published.id } }) },
  { name: 'read a preview lesson', expect: ALL_OK, run: (f) => ({ query: `query($id: ID!) { lesson(id: $id) { content } }`, variables: { id: f.published.preview } }) },
  {
    name: 'read a lesson that is not a preview',
    expect: ['UNAUTHENTICATED', 'FORBIDDEN', 'ok', 'ok', 'FORBIDDEN', 'ok'],
    run: (f) => ({ query: `query($id: ID!) { lesson(id: $id) { content } }`, variables: { id: f.published.locked } }),
  },
  {
    // To those who may not see it, a draft is not there (signing in would not help either).
    name: 'view a draft course',
    expect: ['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'ok', 'NOT_FOUND', 'ok'],
    run: (f) => ({ query: `query($id: ID!) { course(id: $id) { title status } }`, variables: { id: f.draft } }),
  },
  {
    name: 'list unpublished courses',
    expect: ['UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'ok'],
    run: () => ({ query: '{ courses(filter: { status: [DRAFT] }) { totalCount } }' }),
  },
  {
    name: 'create a course',
    expect: ['UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'ok', 'ok', 'ok'],
    run: () => ({
      query: `mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }`,
      variables: { input: { title: 'Matrix course', category: 'MUSIC' } },
    }),
  },
  {
    name: 'update a course',
    expect: AUTHORS,
    run: (f, i) => ({
      query: `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }`,
      variables: { input: { courseId: f.editable.update, title: `Renamed by ${ROLES[i]}` } },
    }),
  },
  {
    name: 'add a lesson',
    expect: AUTHORS,
    run: (f) => ({
      query: `mutation($input: AddLessonInput!) { addLesson(input: $input) { lesson { id } } }`,
      variables: { input: { courseId: f.editable.addLesson, title: 'More', content: 'More text.' } },
    }),
  },
  {
    name: 'publish a course',
    expect: AUTHORS,
    run: (f) => ({ query: `mutation($input: PublishCourseInput!) { publishCourse(input: $input) { course { status } } }`, variables: { input: { courseId: f.editable.publish } } }),
  },
  {
    name: 'unpublish a course',
    expect: AUTHORS,
    run: (f) => ({ query: `mutation($input: UnpublishCourseInput!) { unpublishCourse(input: $input) { course { status } } }`, variables: { input: { courseId: f.editable.unpublish } } }),
  },
  {
    name: 'archive a course',
    expect: AUTHORS,
    run: (f) => ({ query: `mutation($input: ArchiveCourseInput!) { archiveCourse(input: $input) { course { status } } }`, variables: { input: { courseId: f.editable.archive } } }),
  },
  {
    name: 'delete a lesson',
    expect: AUTHORS,
    run: (f, i) => ({ query: `mutation($input: DeleteLessonInput!) { deleteLesson(input: $input) { deletedLessonId } }`, variables: { input: { lessonId: f.deletable[i] } } }),
  },
  {
    name: 'enroll in a free course',
    expect: ['UNAUTHENTICATED', 'ok', 'ok', 'ok', 'ok', 'ok'],
    run: (f) => ({ query: `mutation($input: EnrollInFreeCourseInput!) { enrollInFreeCourse(input: $input) { enrollment { status } } }`, variables: { input: { courseId: f.editable.enroll } } }),
  },
  {
    name: 'complete a lesson (needs an enrollment)',
    expect: ['UNAUTHENTICATED', 'FORBIDDEN', 'ok', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
    run: (f) => ({ query: `mutation($input: CompleteLessonInput!) { completeLesson(input: $input) { enrollment { status } } }`, variables: { input: { lessonId: f.published.locked } } }),
  },
  {
    name: 'enroll someone else',
    expect: ['UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'ok'],
    run: (f) => ({
      query: `mutation($input: AdminEnrollInput!) { adminEnroll(input: $input) { enrollment { source } } }`,
      variables: { input: { userId: f.accounts.student!.id, courseId: f.draft } },
    }),
  },
  {
    name: 'see their own enrollments',
    expect: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
    // Anonymous `me` is null: nothing to see, nothing refused.
    run: () => ({ query: '{ me { enrollments { totalCount } } }' }),
  },
];

describe('who may do what in the courses subgraph, through the router', () => {
  let stack: TestStack;
  let f: Fixtures;

  const call = (who: Account | undefined, query: string, variables?: Record<string, unknown>) =>
    graphql(stack.routerUrl, query, { token: who?.token, ...(variables ? { variables } : {}) });

  async function course(owner: Account, lessons: number, publish: boolean): Promise<{ id: string; lessons: string[] }> {
    const created = await call(owner, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }`, {
      input: { title: 'Matrix fixture', description: 'Used by the permission matrix.', category: 'DEVELOPMENT' },
    });
    const id = created.data.createCourse.course.id as string;
    const ids: string[] = [];
    for (let i = 0; i < lessons; i++) {
      const added = await call(owner, `mutation($input: AddLessonInput!) { addLesson(input: $input) { lesson { id } } }`, {
        input: { courseId: id, title: `L${i}`, content: `Text ${i}.`, isPreview: i === 0 },
      });
      ids.push(added.data.addLesson.lesson.id);
    }
    if (publish) await call(owner, `mutation($input: PublishCourseInput!) { publishCourse(input: $input) { course { id } } }`, { input: { courseId: id } });
    return { id, lessons: ids };
  }

  beforeAll(async () => {
    stack = await sharedTestStack();
    const url = stack.routerUrl;
    const admin = await logInAs(url, 'ADMIN');
    const accounts: Record<Who, Account | undefined> = {
      anonymous: undefined,
      student: await newAccount(url, 'STUDENT', admin),
      'enrolled student': await newAccount(url, 'STUDENT', admin),
      'course instructor': await newAccount(url, 'INSTRUCTOR', admin),
      'other instructor': await newAccount(url, 'INSTRUCTOR', admin),
      admin,
    };
    const owner = accounts['course instructor']!;
    const published = await course(owner, 2, true);
    await call(accounts['enrolled student'], `mutation($input: EnrollInFreeCourseInput!) { enrollInFreeCourse(input: $input) { enrollment { id } } }`, {
      input: { courseId: published.id },
    });
    const editable: Record<string, string> = {};
    for (const [op, publish] of [['update', true], ['addLesson', true], ['publish', false], ['unpublish', true], ['archive', true], ['enroll', true]] as const) {
      editable[op] = (await course(owner, 1, publish)).id;
    }
    f = {
      accounts,
      published: { id: published.id, preview: published.lessons[0]!, locked: published.lessons[1]! },
      draft: (await course(owner, 1, false)).id,
      editable,
      deletable: (await course(owner, ROLES.length + 1, true)).lessons.slice(1),
    };
  });

  const cells = OPERATIONS.flatMap((op) => ROLES.map((who, i) => ({ op, who, i, outcome: op.expect[i]! })));

  it.each(cells.map((c) => [c.op.name, c.who, c.outcome, c] as const))('%s as %s: %s', async (_op, _who, outcome, cell) => {
    const { query, variables } = cell.op.run(f, cell.i);
    const r = await call(f.accounts[cell.who], query, variables);
    if (outcome === 'ok') {
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      expect(r.data).toBeTruthy();
    } else {
      expect(errorCode(r), JSON.stringify(r.errors)).toBe(outcome);
    }
  });
});
