/**
 * The courses subgraph end to end: clients talking to the router over HTTP, with users and courses
 * behind it on real databases and real token verification at every hop.
 */
import { DEMO_ACCOUNTS } from '@campus/kit/core';
import { errorCode, graphql } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { logInAs, newAccount, type Account } from './router-clients.ts';

const CATALOG = /* GraphQL */ `
  query($filter: CourseFilter) {
    courses(first: 20, filter: $filter, orderBy: NEWEST) {
      totalCount
      edges { node { id slug title isFree price { amount currency } instructor { id name } lessonCount totalDuration enrollmentCount } }
    }
  }
`;
const COURSE_PAGE = /* GraphQL */ `
  query($slug: String!) { course(slug: $slug) { id title description lessons { id title position isPreview } viewerEnrollment { status } } }
`;
const LESSON = /* GraphQL */ `query($id: ID!) { lesson(id: $id) { id title isPreview content } }`;
const ENROLL = /* GraphQL */ `mutation($input: EnrollInFreeCourseInput!) { enrollInFreeCourse(input: $input) { enrollment { id status source } } }`;
const COMPLETE = /* GraphQL */ `
  mutation($input: CompleteLessonInput!) { completeLesson(input: $input) { enrollment { status progress { completedLessons totalLessons percent nextLesson { id } } } } }
`;
const MY_LEARNING = /* GraphQL */ `
  { me { name enrollments(first: 10) { totalCount edges { node { status progress { percent } course { title instructor { name } } } } } } }
`;

describe('courses through the router', () => {
  let stack: TestStack;
  let url: string;
  let admin: Account;

  beforeAll(async () => {
    stack = await sharedTestStack();
    url = stack.routerUrl;
    admin = await logInAs(url, 'ADMIN');
  });

  it('lets a student browse, enroll in a free course, complete lessons and see their progress', async () => {
    const student = await newAccount(url, 'STUDENT', admin);
    const catalog = await graphql(url, CATALOG, { variables: { filter: { isFree: true } } });
    expect(catalog.errors).toBeUndefined();
    const free = catalog.data.courses.edges.map((e: any) => e.node);
    expect(free.length).toBeGreaterThan(0);
    expect(free[0].instructor.name).toBeTruthy();
    // Other files on the shared stack add courses of their own, some with a single lesson.
    const chosen = free.find((c: any) => c.lessonCount >= 2);
    expect(chosen).toBeDefined();

    const page = await graphql(url, COURSE_PAGE, { token: student.token, variables: { slug: chosen.slug } });
    expect(page.data.course.viewerEnrollment).toBeNull();
    const lessons = page.data.course.lessons;
    expect(lessons.length).toBe(chosen.lessonCount);

    const enrolled = await graphql(url, ENROLL, { token: student.token, variables: { input: { courseId: chosen.id } } });
    expect(enrolled.data.enrollInFreeCourse.enrollment).toMatchObject({ status: 'ACTIVE', source: 'FREE' });
    const again = await graphql(url, ENROLL, { token: student.token, variables: { input: { courseId: chosen.id } } });
    expect(again.data.enrollInFreeCourse.enrollment.id).toBe(enrolled.data.enrollInFreeCourse.enrollment.id);

    const first = await graphql(url, COMPLETE, { token: student.token, variables: { input: { lessonId: lessons[0].id } } });
    expect(first.data.completeLesson.enrollment.progress).toEqual({
      completedLessons: 1,
      totalLessons: lessons.length,
      percent: Math.floor(100 / lessons.length),
      nextLesson: { id: lessons[1].id },
    });
    const content = await graphql(url, LESSON, { token: student.token, variables: { id: lessons[lessons.length - 1].id } });
    expect(content.data.lesson.content).toBeTruthy();

    const mine = await graphql(url, MY_LEARNING, { token: student.token });
    expect(mine.data.me.enrollments.totalCount).toBe(1);
    expect(mine.data.me.enrollments.edges[0].node).toMatchObject({ status: 'ACTIVE', progress: { percent: Math.floor(100 / lessons.length) }, course: { title: chosen.title } });
  });

  it('lets an instructor create, fill and publish a course that then shows in the catalog', async () => {
    const instructor = await newAccount(url, 'INSTRUCTOR', admin);
    const created = await graphql(
      url,
      `mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id slug status instructor { id name } } } }`,
      {
        token: instructor.token,
        variables: { input: { title: 'Sourdough Science', description: 'Bread, chemistry and patience.', category: 'HEALTH_AND_FITNESS', price: { amount: 2400, currency: 'JPY' } } },
      },
    );
    const course = created.data.createCourse.course;
    expect(course).toMatchObject({ status: 'DRAFT', instructor: { id: instructor.id, name: instructor.name } });

    const early = await graphql(url, `mutation($input: PublishCourseInput!) { publishCourse(input: $input) { course { status } } }`, {
      token: instructor.token,
      variables: { input: { courseId: course.id } },
    });
    expect(errorCode(early)).toBe('CONFLICT');

    for (const [i, title] of ['Starter', 'Folding', 'Baking'].entries()) {
      const added = await graphql(url, `mutation($input: AddLessonInput!) { addLesson(input: $input) { lesson { position } } }`, {
        token: instructor.token,
        variables: { input: { courseId: course.id, title, content: `${title}: what to do and why.`, isPreview: i === 0 } },
      });
      expect(added.data.addLesson.lesson.position).toBe(i + 1);
    }
    const published = await graphql(url, `mutation($input: PublishCourseInput!) { publishCourse(input: $input) { course { status lessonCount price { amount currency } } } }`, {
      token: instructor.token,
      variables: { input: { courseId: course.id } },
    });
    expect(published.data.publishCourse.course).toEqual({ status: 'PUBLISHED', lessonCount: 3, price: { amount: 2400, currency: 'JPY' } });

    const found = await graphql(url, CATALOG, { variables: { filter: { search: 'sourdough' } } });
    expect(found.data.courses.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ id: course.id, instructor: { id: instructor.id, name: instructor.name }, lessonCount: 3, enrollmentCount: 0 }),
    ]);
  });

  it('does not show lesson content to a student who is not enrolled, but shows previews', async () => {
    const student = await newAccount(url, 'STUDENT', admin);
    const catalog = await graphql(url, CATALOG, { variables: { filter: { isFree: false } } });
    const paid = catalog.data.courses.edges[0].node;
    const page = await graphql(url, COURSE_PAGE, { token: student.token, variables: { slug: paid.slug } });
    const [preview, locked] = [page.data.course.lessons.find((l: any) => l.isPreview), page.data.course.lessons.find((l: any) => !l.isPreview)];

    const denied = await graphql(url, LESSON, { token: student.token, variables: { id: locked.id } });
    expect(errorCode(denied)).toBe('FORBIDDEN');
    expect(denied.data?.lesson?.content ?? null).toBeNull();
    const anonymous = await graphql(url, LESSON, { variables: { id: locked.id } });
    expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
    const sample = await graphql(url, LESSON, { token: student.token, variables: { id: preview.id } });
    expect(sample.errors).toBeUndefined();
    expect(sample.data.lesson.content).toBeTruthy();
  });

  it('resolves me { enrollments { course { instructor { name } } } } across users, courses and users again', async () => {
    const student = await logInAs(url, 'STUDENT');
    const r = await graphql(url, MY_LEARNING, { token: student.token });
    expect(r.errors).toBeUndefined();
    expect(r.data.me.name).toBe(DEMO_ACCOUNTS[2].name);
    const instructors = r.data.me.enrollments.edges.map((e: any) => e.node.course.instructor.name);
    expect(instructors.length).toBeGreaterThanOrEqual(2);
    expect(instructors).toContain(DEMO_ACCOUNTS[1].name);
  });
});
