/**
 * Inputs as clients see them, through the router, in all three subgraphs: the kit's one validation
 * layer (packages/kit/src/core/validation.ts) refuses control characters and invisible-only names and
 * titles with BAD_USER_INPUT and the field, searches match `%` and `_` as themselves, a missing
 * record in a mutation is NOT_FOUND, and a course the viewer may not see is null with NOT_FOUND
 * whatever is selected.
 */
import { randomUUID } from 'node:crypto';
import { errorCode, graphql, type GraphQLResponse } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '../src/testing.ts';
import { updateProfile } from '@campus/users/accounts';
import type { UsersDomain } from '@campus/users/domain';
import type { UsersService } from '@campus/users/service';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCourse, logInAs, newStudent, type Account, type PaidCourse } from './payments-helpers.ts';

const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { user { id name } } }';
const UPDATE_PROFILE = 'mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id name } } }';
const USERS = 'query($s: String) { users(search: $s, first: 100) { totalCount edges { node { id name email } } } }';
const CREATE_COURSE = 'mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id slug title description } } }';
const UPDATE_COURSE = 'mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { id } } }';
const ADD_LESSON = 'mutation($input: AddLessonInput!) { addLesson(input: $input) { lesson { id } } }';
const DELETE_LESSON = 'mutation($input: DeleteLessonInput!) { deleteLesson(input: $input) { deletedLessonId } }';
const CATALOG = 'query($f: CourseFilter) { courses(filter: $f, first: 50) { totalCount } }';
const CHECKOUT = 'mutation($input: CheckoutInput!) { checkout(input: $input) { payment { id } } }';
const REQUEST_REFUND = 'mutation($input: RequestRefundInput!) { requestRefund(input: $input) { payment { id } } }';
const REFUND_PAYMENT = 'mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { payment { id } } }';

/** Names and titles made only of what draws nothing: zero-width, direction overrides and isolates, fillers, blanks. */
const INVISIBLE = ['\u200b\u200c\u200d', '\u202e', '\u2066\u2069', '\u3164', ' \u2800 ', '\ufeff'];

function expectRefused(r: GraphQLResponse, field: string) {
  expect(errorCode(r), JSON.stringify(r.errors)).toBe('BAD_USER_INPUT');
  expect(r.errors![0]!.extensions!.field).toBe(field);
}

describe('inputs through the router', () => {
  let stack: TestStack;
  let url: string;
  let admin: Account;
  let instructor: Account;
  let student: Account;
  let published: PaidCourse;

  beforeAll(async () => {
    stack = await sharedTestStack();
    url = stack.routerUrl;
    admin = await logInAs(url, 'ADMIN');
    instructor = await logInAs(url, 'INSTRUCTOR');
    student = await newStudent(url);
    published = await createCourse(url, instructor, { lessons: 1 });
  });
  /** The users service's database, as the embedded stack runs it. */
  const usersPrisma = () => (stack.services.users as unknown as Pick<UsersService, 'prisma'>).prisma;

  describe('users', () => {
    const signUp = (input: Record<string, unknown>) =>
      graphql(url, SIGN_UP, { variables: { input: { email: `in-${randomUUID()}@x.test`, password: 'long-enough-pw', name: 'Fine Name', ...input } } });

    it.each([
      ['a NUL byte in a name', { name: 'Ada\u0000Lovelace' }, 'input.name'],
      ['an escape sequence in a name', { name: 'Ada\u001b[2J' }, 'input.name'],
      ['a line break in a name', { name: 'Ada\nLovelace' }, 'input.name'],
      ['a NUL byte in an email', { email: 'nul\u0000@x.test' }, 'input.email'],
      ['a NUL byte in a password', { password: 'long-enough\u0000pw' }, 'input.password'],
    ])('refuses %s at sign-up with BAD_USER_INPUT naming the field', async (_what, input, field) => {
      expectRefused(await signUp(input), field);
    });

    it.each(INVISIBLE)('refuses the invisible-only name %j at sign-up and in updateProfile', async (name) => {
      expectRefused(await signUp({ name }), 'input.name');
      expectRefused(await graphql(url, UPDATE_PROFILE, { token: student.token, variables: { input: { name } } }), 'input.name');
    });

    it('accepts names in any script, with direction marks inside visible text', async () => {
      const r = await signUp({ name: 'عائشة \u200fبنت\u200f أبي بكر' });
      expect(r.errors).toBeUndefined();
    });

    it('refuses a NUL byte in the admin user search', async () => {
      expectRefused(await graphql(url, USERS, { token: admin.token, variables: { s: 'a\u0000' } }), 'search');
    });

    it('matches % and _ in the admin user search as themselves', async () => {
      const marker = randomUUID().slice(0, 8);
      await signUp({ name: `Percent ${marker} 100%`, email: `percent-${marker}@x.test` });
      await signUp({ name: `Underscore ${marker}`, email: `under_score-${marker}@x.test` });
      const all = (await graphql(url, USERS, { token: admin.token })).data.users.totalCount as number;

      const percent = (await graphql(url, USERS, { token: admin.token, variables: { s: '%' } })).data.users;
      expect(percent.totalCount).toBeLessThan(all);
      expect(percent.edges.map((e: { node: { name: string } }) => e.node.name)).toContain(`Percent ${marker} 100%`);
      for (const { node } of percent.edges) expect(`${node.name} ${node.email}`).toContain('%');

      const underscore = (await graphql(url, USERS, { token: admin.token, variables: { s: '_' } })).data.users;
      expect(underscore.totalCount).toBeLessThan(all);
      expect(underscore.edges.map((e: { node: { email: string } }) => e.node.email)).toContain(`under_score-${marker}@x.test`);
      for (const { node } of underscore.edges) expect(`${node.name} ${node.email}`).toContain('_');

      expect((await graphql(url, USERS, { token: admin.token, variables: { s: `${marker}%` } })).data.users.totalCount).toBe(0);
    });

    it('answers updateProfile for an account deleted since its token was issued with NOT_FOUND or UNAUTHENTICATED, never an internal error', async () => {
      const doomed = await newStudent(url, 'Soon Gone');
      await usersPrisma().user.delete({ where: { id: doomed.id } });
      const r = await graphql(url, UPDATE_PROFILE, { token: doomed.token, variables: { input: { name: 'Ghost' } } });
      // Through the router the token itself is refused once its session is gone with the account.
      expect(['NOT_FOUND', 'UNAUTHENTICATED'], JSON.stringify(r.errors)).toContain(errorCode(r));
      // A deletion between the token check and the write is NOT_FOUND too.
      await expect(updateProfile({ prisma: usersPrisma() } as UsersDomain, doomed.id, { name: 'Ghost' })).rejects.toMatchObject({
        extensions: { code: 'NOT_FOUND' },
      });
    });

    it('answers setUserRole for an unknown user with NOT_FOUND', async () => {
      const r = await graphql(url, 'mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { user { id } } }', {
        token: admin.token,
        variables: { input: { userId: randomUUID(), role: 'INSTRUCTOR' } },
      });
      expect(errorCode(r)).toBe('NOT_FOUND');
    });
  });

  describe('courses', () => {
    const create = (input: Record<string, unknown>) =>
      graphql(url, CREATE_COURSE, { token: instructor.token, variables: { input: { title: 'A fine title', category: 'DEVELOPMENT', ...input } } });

    it.each([
      ['a NUL byte in a title', { title: 'Intro\u0000' }, 'input.title'],
      ['a bell in a description', { description: 'Ding\u0007' }, 'input.description'],
      ['a line break in a title', { title: 'Two\nlines' }, 'input.title'],
      ['a NUL byte in a slug', { slug: 'intro\u0000' }, 'input.slug'],
      ['a NUL byte in a subtitle', { subtitle: 'sub\u0000' }, 'input.subtitle'],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_what, input, field) => {
      expectRefused(await create(input), field);
    });

    it.each(INVISIBLE)('refuses the invisible-only title %j for courses and lessons', async (title) => {
      expectRefused(await create({ title }), 'input.title');
      expectRefused(await graphql(url, UPDATE_COURSE, { token: instructor.token, variables: { input: { courseId: published.id, title } } }), 'input.title');
      expectRefused(await graphql(url, ADD_LESSON, { token: instructor.token, variables: { input: { courseId: published.id, title, content: 'Text.' } } }), 'input.title');
    });

    it('keeps line breaks and tabs in descriptions', async () => {
      const r = await create({ description: 'First line.\n\n\tIndented second.' });
      expect(r.errors).toBeUndefined();
      expect(r.data.createCourse.course.description).toBe('First line.\n\n\tIndented second.');
    });

    it('refuses a NUL byte in the catalog search and in a slug lookup', async () => {
      expectRefused(await graphql(url, CATALOG, { variables: { f: { search: 'java\u0000' } } }), 'filter.search');
      expectRefused(await graphql(url, 'query($s: String) { course(slug: $s) { id } }', { variables: { s: 'a\u0000' } }), 'slug');
    });

    it('finds nothing, not everything, for a catalog search of % or _', async () => {
      const all = (await graphql(url, CATALOG)).data.courses.totalCount as number;
      expect(all).toBeGreaterThan(0);
      for (const search of ['%', '_', '%%', '\\%']) {
        const r = await graphql(url, CATALOG, { variables: { f: { search } } });
        expect(r.data.courses.totalCount, search).toBe(0);
      }
    });

    it('answers mutations on missing courses and lessons with NOT_FOUND', async () => {
      expect(errorCode(await graphql(url, UPDATE_COURSE, { token: instructor.token, variables: { input: { courseId: randomUUID(), title: 'X' } } }))).toBe('NOT_FOUND');
      expect(errorCode(await graphql(url, DELETE_LESSON, { token: instructor.token, variables: { input: { lessonId: randomUUID() } } }))).toBe('NOT_FOUND');
    });
  });

  describe('hidden courses', () => {
    let draft: { id: string; slug: string; lessonId: string };

    beforeAll(async () => {
      const created = await create();
      const lesson = await graphql(url, ADD_LESSON, { token: instructor.token, variables: { input: { courseId: created.id, title: 'Secret lesson', content: 'Secret.' } } });
      draft = { ...created, lessonId: lesson.data.addLesson.lesson.id };
      async function create() {
        const r = await graphql(url, CREATE_COURSE, { token: instructor.token, variables: { input: { title: 'A draft', category: 'MUSIC' } } });
        return r.data.createCourse.course as { id: string; slug: string };
      }
    });

    const courseBy = (arg: 'id' | 'slug', value: string, selection: string, token?: string) =>
      graphql(url, `query($v: ${arg === 'id' ? 'ID' : 'String'}) { course(${arg}: $v) { ${selection} } }`, { token, variables: { v: value } });

    it.each([
      ['id', '{ id }'],
      ['id', '{ __typename }'],
      ['id', '{ id title status lessons { id } }'],
      ['slug', '{ id }'],
      ['slug', '{ slug }'],
    ] as const)('answers a draft by %s with null and NOT_FOUND to a student selecting %s', async (arg, selection) => {
      const r = await courseBy(arg, arg === 'id' ? draft.id : draft.slug, selection.slice(1, -1), student.token);
      expect(r.data).toEqual({ course: null });
      expect(r.errors).toHaveLength(1);
      expect(errorCode(r)).toBe('NOT_FOUND');
    });

    it('answers a draft exactly as a course that does not exist, to anonymous callers too', async () => {
      const hidden = await courseBy('id', draft.id, 'id');
      const missing = await courseBy('id', randomUUID(), 'id');
      expect(hidden.data).toEqual({ course: null });
      expect(errorCode(hidden)).toBe('NOT_FOUND');
      expect(errorCode(missing)).toBe('NOT_FOUND');
      expect(hidden.errors![0]!.message.replace(draft.id, '<id>')).toBe(missing.errors![0]!.message.replace(/[0-9a-f-]{36}/, '<id>'));
    });

    it('answers a lesson of a draft with null and NOT_FOUND, whatever is selected', async () => {
      for (const selection of ['id', '__typename', 'id title']) {
        const r = await graphql(url, `query($id: ID!) { lesson(id: $id) { ${selection} } }`, { token: student.token, variables: { id: draft.lessonId } });
        expect(r.data).toEqual({ lesson: null });
        expect(errorCode(r)).toBe('NOT_FOUND');
      }
    });

    it('shows the draft and its lesson to its instructor', async () => {
      expect((await courseBy('slug', draft.slug, 'id status', instructor.token)).data.course).toEqual({ id: draft.id, status: 'DRAFT' });
      const lesson = await graphql(url, 'query($id: ID!) { lesson(id: $id) { id } }', { token: instructor.token, variables: { id: draft.lessonId } });
      expect(lesson.data.lesson).toEqual({ id: draft.lessonId });
    });
  });

  describe('payments', () => {
    const checkout = (input: Record<string, unknown>) =>
      graphql(url, CHECKOUT, { token: student.token, variables: { input: { courseId: published.id, paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID(), ...input } } });

    it.each([
      ['a NUL byte in an idempotency key', { idempotencyKey: 'key\u0000' }, 'input.idempotencyKey'],
      ['a line break in an idempotency key', { idempotencyKey: 'key\nmore' }, 'input.idempotencyKey'],
      ['a NUL byte in a payment method', { paymentMethod: 'pm_card_visa\u0000' }, 'input.paymentMethod'],
      ['a control character in a payment method', { paymentMethod: 'pm_\u001bcard' }, 'input.paymentMethod'],
    ])('refuses %s at checkout with BAD_USER_INPUT naming the field', async (_what, input, field) => {
      expectRefused(await checkout(input), field);
    });

    it('refuses a NUL byte in a refund reason', async () => {
      const r = await graphql(url, REQUEST_REFUND, { token: student.token, variables: { input: { paymentId: randomUUID(), reason: 'changed my mind\u0000' } } });
      expectRefused(r, 'input.reason');
    });

    it('answers refunds of payments that do not exist with NOT_FOUND', async () => {
      expect(errorCode(await graphql(url, REQUEST_REFUND, { token: student.token, variables: { input: { paymentId: randomUUID(), reason: 'Two\nlines are fine.' } } }))).toBe('NOT_FOUND');
      expect(errorCode(await graphql(url, REFUND_PAYMENT, { token: admin.token, variables: { input: { paymentId: randomUUID() } } }))).toBe('NOT_FOUND');
    });
  });
});
