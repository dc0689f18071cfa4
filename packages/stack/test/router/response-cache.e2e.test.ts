/**
 * The router's response cache (docs/response-cache.md), end to end on a stack of its own: an
 * anonymous catalog page is answered from the cache the second time (no subgraph fetch), and the
 * first anonymous read after a change through the router (course details, lessons, the
 * instructor's name, unpublishing) shows it. Signed-in requests and answers with private fields are
 * never served from the cache nor stored in it. In memory on the embedded default; in Redis with
 * TEST_REDIS_URL, where a second router instance shares the entries and sees the invalidation.
 *
 * Subgraph fetches are counted with the router's own series (campus_router_subgraph_fetches_total),
 * which only this file's requests move.
 */
import { randomBytes } from 'node:crypto';
import { graphql, ok } from '@campus/test-kit';
import { startSecondRouter, startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logInAs, newAccount, type Account } from '../courses/router-clients.ts';

const redisUrl = process.env.TEST_REDIS_URL;

const CATALOG = /* GraphQL */ `
  query CatalogPage($instructorId: ID!) {
    courses(first: 10, filter: { instructorId: $instructorId }) {
      totalCount
      edges { node { id title status price { amount currency } lessonCount lessons { title position } instructor { name } } }
    }
  }
`;
const COURSE_PAGE = /* GraphQL */ `
  query CoursePage($id: ID!) { course(id: $id) { title description lessons { title duration isPreview } instructor { name } enrollmentCount } }
`;

const metricsText = async (stack: TestStack) => (await fetch(`${stack.urls.router}/metrics`)).text();

/** Sum of a counter's samples whose labels contain `match`. */
function sample(text: string, name: string, match = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(match))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const subgraphFetches = async (stack: TestStack) => sample(await metricsText(stack), 'campus_router_subgraph_fetches_total{');

describe('response cache: anonymous catalog pages', () => {
  const cachePrefix = `campus-test-${randomBytes(6).toString('hex')}:response-cache:`;
  let stack: TestStack;
  let admin: Account;
  let instructor: Account;
  let courseId: string;
  let lessonIds: string[];

  /** Runs `read` and returns its data with how many subgraph fetches the router made for it. */
  async function counted<T>(read: () => Promise<T>): Promise<{ result: T; fetches: number }> {
    const before = await subgraphFetches(stack);
    const result = await read();
    return { result, fetches: (await subgraphFetches(stack)) - before };
  }
  const catalog = (token?: string) => graphql(stack.routerUrl, CATALOG, { token, variables: { instructorId: instructor.id } });
  const as = (account: Account, query: string, variables: Record<string, unknown>) =>
    graphql(stack.routerUrl, query, { token: account.token, variables }).then(ok);

  beforeAll(async () => {
    stack = await startTestStack({ env: redisUrl ? { RESPONSE_CACHE_REDIS_PREFIX: cachePrefix } : {} });
    admin = await logInAs(stack.routerUrl, 'ADMIN');
    instructor = await newAccount(stack.routerUrl, 'INSTRUCTOR', admin);
    const created = await as(instructor, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }`, {
      input: { title: 'Cached Cartography', description: 'Maps that stay fresh.', category: 'DESIGN', price: { amount: 1500, currency: 'USD' } },
    });
    courseId = created.createCourse.course.id;
    lessonIds = [];
    for (const title of ['Projections', 'Legends', 'Scale']) {
      const added = await as(instructor, `mutation($input: AddLessonInput!) { addLesson(input: $input) { lesson { id } } }`, {
        input: { courseId, title, content: `${title}, explained.` },
      });
      lessonIds.push(added.addLesson.lesson.id);
    }
    await as(instructor, `mutation($input: PublishCourseInput!) { publishCourse(input: $input) { course { status } } }`, { input: { courseId } });
  });
  afterAll(() => stack?.close());

  it('answers the second anonymous read of a catalog page from the cache, without a subgraph fetch', async () => {
    const first = await counted(() => catalog());
    expect(ok(first.result).courses.edges[0].node).toMatchObject({ title: 'Cached Cartography', lessonCount: 3, instructor: { name: instructor.name } });
    // courses, then users for the instructor's name.
    expect(first.fetches).toBeGreaterThanOrEqual(2);

    const hitsBefore = sample(await metricsText(stack), 'campus_router_response_cache_lookups_total', 'result="hit"');
    const second = await counted(() => catalog());
    expect(second.fetches).toBe(0);
    expect(second.result.data).toEqual(first.result.data);
    expect(second.result.headers.get('age')).not.toBeNull();
    expect(sample(await metricsText(stack), 'campus_router_response_cache_lookups_total', 'result="hit"')).toBe(hitsBefore + 1);
    // Downstream caches could not be told of a change: clients are told not to keep answers.
    expect(second.result.headers.get('cache-control')).toBe('no-store');
  });

  it('shows a course change made through the router on the very next anonymous read', async () => {
    await catalog();
    expect((await counted(() => catalog())).fetches).toBe(0);
    await as(instructor, `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }`, {
      input: { courseId, title: 'Cached Cartography, Revised', price: { amount: 1700, currency: 'USD' } },
    });
    const after = ok(await catalog()).courses.edges[0].node;
    expect(after).toMatchObject({ title: 'Cached Cartography, Revised', price: { amount: 1700, currency: 'USD' } });
  });

  it('shows lesson changes (update, add, reorder) on the very next anonymous read', async () => {
    const page = () => graphql(stack.routerUrl, COURSE_PAGE, { variables: { id: courseId } }).then(ok);
    await page();
    expect((await counted(() => page())).fetches).toBe(0);

    await as(instructor, `mutation($input: UpdateLessonInput!) { updateLesson(input: $input) { lesson { title } } }`, {
      input: { lessonId: lessonIds[1], title: 'Legends and Keys', isPreview: true },
    });
    expect((await page()).course.lessons[1]).toMatchObject({ title: 'Legends and Keys', isPreview: true });

    await page();
    await as(instructor, `mutation($input: AddLessonInput!) { addLesson(input: $input) { lesson { id } } }`, {
      input: { courseId, title: 'Coastlines', content: 'Fractal, mostly.' },
    });
    expect((await page()).course.lessons.map((l: { title: string }) => l.title)).toEqual(['Projections', 'Legends and Keys', 'Scale', 'Coastlines']);

    const ids = ok(await catalog()).courses.edges[0].node.lessons.length;
    expect(ids).toBe(4);
    const all = (await as(instructor, `query($id: ID!) { course(id: $id) { lessons { id } } }`, { id: courseId })).course.lessons.map((l: { id: string }) => l.id);
    await as(instructor, `mutation($input: ReorderLessonsInput!) { reorderLessons(input: $input) { course { id } } }`, {
      input: { courseId, lessonIds: [...all].reverse() },
    });
    expect(ok(await catalog()).courses.edges[0].node.lessons.map((l: { title: string }) => l.title)).toEqual(['Coastlines', 'Scale', 'Legends and Keys', 'Projections']);
  });

  it("shows the instructor's new name (users) on the very next anonymous read", async () => {
    await catalog();
    expect((await counted(() => catalog())).fetches).toBe(0);
    const name = `Mercator ${randomBytes(3).toString('hex')}`;
    await as(instructor, `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { user { name } } }`, { input: { name } });
    expect(ok(await catalog()).courses.edges[0].node.instructor.name).toBe(name);
  });

  it('drops an unpublished course from the very next anonymous read, and shows it again once republished', async () => {
    await catalog();
    await as(instructor, `mutation($input: UnpublishCourseInput!) { unpublishCourse(input: $input) { course { status } } }`, { input: { courseId } });
    expect(ok(await catalog()).courses.totalCount).toBe(0);
    // Not found for anonymous visitors: an error, and errors are never cached.
    const hidden = await graphql(stack.routerUrl, COURSE_PAGE, { variables: { id: courseId } });
    expect(hidden.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await as(instructor, `mutation($input: PublishCourseInput!) { publishCourse(input: $input) { course { status } } }`, { input: { courseId } });
    expect(ok(await catalog()).courses.totalCount).toBe(1);
  });

  it('never serves a signed-in request from the cache, and never stores its answer', async () => {
    const student = await newAccount(stack.routerUrl, 'STUDENT', admin);
    await catalog();
    expect((await counted(() => catalog())).fetches).toBe(0);
    // Cached for anonymous visitors, yet every signed-in read goes to the subgraphs.
    expect((await counted(() => catalog(student.token))).fetches).toBeGreaterThan(0);
    expect((await counted(() => catalog(student.token))).fetches).toBeGreaterThan(0);

    // A page only a signed-in viewer has read yet is not in the cache for the next anonymous one.
    const fresh = /* GraphQL */ `query SignedFirst($id: ID!) { course(id: $id) { title slug } }`;
    await graphql(stack.routerUrl, fresh, { token: student.token, variables: { id: courseId } }).then(ok);
    expect((await counted(() => graphql(stack.routerUrl, fresh, { variables: { id: courseId } }).then(ok))).fetches).toBeGreaterThan(0);
    expect((await counted(() => graphql(stack.routerUrl, fresh, { variables: { id: courseId } }).then(ok))).fetches).toBe(0);

    // The instructor sees their own draft; nothing of it reaches anonymous visitors.
    const draft = await as(instructor, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }`, {
      input: { title: 'Secret Draft', category: 'DESIGN' },
    });
    const draftId = draft.createCourse.course.id;
    for (let i = 0; i < 2; i++) {
      expect((await as(instructor, `query($id: ID!) { course(id: $id) { title } }`, { id: draftId })).course.title).toBe('Secret Draft');
    }
    const anonymous = await graphql(stack.routerUrl, `query($id: ID!) { course(id: $id) { title } }`, { variables: { id: draftId } });
    expect(anonymous.data?.course ?? null).toBeNull();
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('never caches answers that select viewer-dependent fields, even anonymous ones', async () => {
    const privateReads = [
      [`query($id: ID!) { course(id: $id) { title viewerEnrollment { id } } }`, { id: courseId }],
      [`query($id: ID!) { me { id } course(id: $id) { title } }`, { id: courseId }],
      [`query($id: ID!) { course(id: $id) { title lessons { title content } } }`, { id: courseId }],
    ] as const;
    for (const [query, variables] of privateReads) {
      await graphql(stack.routerUrl, query, { variables });
      const again = await counted(() => graphql(stack.routerUrl, query, { variables }));
      expect(again.fetches, query).toBeGreaterThan(0);
    }
  });

  it('never caches mutations', async () => {
    const name = instructor.name;
    const rename = () => as(instructor, `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { user { name } } }`, { input: { name } });
    await rename();
    expect((await counted(rename)).fetches).toBeGreaterThan(0);
  });

  describe.skipIf(!redisUrl)('with a second router instance (Redis)', () => {
    let routerB: Awaited<ReturnType<typeof startSecondRouter>>;
    let urlB: string;

    beforeAll(async () => {
      routerB = await startSecondRouter(stack, { REDIS_URL: redisUrl, RESPONSE_CACHE_REDIS_PREFIX: cachePrefix });
      urlB = routerB.url;
    });
    afterAll(() => routerB?.stop());

    it('shares cached answers, and a change through router B invalidates router A', async () => {
      const onB = () => graphql(urlB, CATALOG, { variables: { instructorId: instructor.id } }).then(ok);
      const cached = ok(await catalog());
      // Router A stored it in Redis: router B answers with it, without a fetch of its own.
      const fromB = await onB();
      expect(fromB).toEqual(cached);

      const title = `Shared Cartography ${randomBytes(3).toString('hex')}`;
      const changed = await graphql(urlB, `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }`, {
        token: instructor.token,
        variables: { input: { courseId, title } },
      }).then(ok);
      expect(changed.updateCourse.course.title).toBe(title);
      expect(ok(await catalog()).courses.edges[0].node.title).toBe(title);
      expect((await onB()).courses.edges[0].node.title).toBe(title);
    });
  });
});
