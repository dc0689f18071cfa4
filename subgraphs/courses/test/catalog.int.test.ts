/**
 * The catalog over the demo data (seed scale 1) through the real schema: every filter narrows to
 * what it says, every order holds across pages, pages never overlap, and the page size is capped.
 */
import { MAX_PAGE_SIZE } from '@campus/kit/subgraph';
import { errorCode } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCourses } from '@campus/courses/seed';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

const CATALOG = /* GraphQL */ `
  query Catalog($first: Int, $after: String, $filter: CourseFilter, $orderBy: CourseOrder) {
    courses(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id title description category level language status isFree price { amount currency } instructor { id } enrollmentCount publishedAt } }
    }
  }
`;

interface Node {
  id: string;
  title: string;
  description: string;
  category: string;
  level: string;
  language: string;
  status: string;
  isFree: boolean;
  price: { amount: number; currency: string } | null;
  instructor: { id: string };
  enrollmentCount: number;
  publishedAt: string;
}

describe('the catalog', () => {
  let h: CoursesHarness;
  let admin: Person;

  beforeAll(async () => {
    h = await startCourses();
    await seedCourses(h.service.prisma, 1);
    admin = await h.person('admin', 'ADMIN');
  });
  afterAll(() => h?.close());

  /** Every page of a query, following endCursor. */
  async function all(variables: Record<string, unknown>, as?: Person): Promise<{ nodes: Node[]; totalCount: number }> {
    const nodes: Node[] = [];
    let after: string | null = null;
    let totalCount = 0;
    for (;;) {
      const page: any = ok(await h.request(CATALOG, { as, variables: { ...variables, first: 7, after } })).courses;
      totalCount = page.totalCount;
      nodes.push(...page.edges.map((e: { node: Node }) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    return { nodes, totalCount };
  }

  it('lists only published courses, newest first, in pages that never overlap', async () => {
    const { nodes, totalCount } = await all({});
    expect(nodes.length).toBe(totalCount);
    expect(new Set(nodes.map((n) => n.id)).size).toBe(nodes.length);
    expect(nodes.every((n) => n.status === 'PUBLISHED')).toBe(true);
    expect(await h.service.prisma.course.count({ where: { status: 'PUBLISHED' } })).toBe(totalCount);
    const dates = nodes.map((n) => n.publishedAt);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  it.each([
    ['category', { category: 'DEVELOPMENT' }, (n: Node) => n.category === 'DEVELOPMENT'],
    ['level', { level: 'BEGINNER' }, (n: Node) => n.level === 'BEGINNER'],
    ['language', { language: 'en' }, (n: Node) => n.language === 'en'],
    ['free', { isFree: true }, (n: Node) => n.isFree && n.price === null],
    ['paid', { isFree: false }, (n: Node) => !n.isFree && n.price !== null],
    ['price range', { price: { currency: 'usd', min: 2999, max: 9999 } }, (n: Node) => n.price?.currency === 'USD' && n.price.amount >= 2999 && n.price.amount <= 9999],
  ])('filters by %s', async (_name, filter, holds) => {
    const { nodes } = await all({ filter });
    const everything = (await all({})).nodes;
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.every(holds)).toBe(true);
    expect(nodes.length).toBe(everything.filter(holds).length);
  });

  it('filters by instructor', async () => {
    const everything = (await all({})).nodes;
    const instructorId = everything[0]!.instructor.id;
    const { nodes } = await all({ filter: { instructorId } });
    expect(nodes.map((n) => n.id).sort()).toEqual(everything.filter((n) => n.instructor.id === instructorId).map((n) => n.id).sort());
  });

  it('finds courses by words of their title or description, each word as a prefix, in any letter case', async () => {
    const everything = (await all({})).nodes;
    const target = everything.find((n) => /typescript/i.test(n.title)) ?? everything[0]!;
    const word = target.title.split(/\s+/).find((w) => w.length > 4)!.replace(/[^\p{L}\p{N}]/gu, '');
    const { nodes } = await all({ filter: { search: word.slice(0, 4).toUpperCase() } });
    expect(nodes.map((n) => n.id)).toContain(target.id);
    expect(nodes.every((n) => `${n.title} ${n.description}`.toLowerCase().split(/[^\p{L}\p{N}]+/u).some((w) => w.startsWith(word.slice(0, 4).toLowerCase())))).toBe(true);
    expect((await all({ filter: { search: 'zzqx nonexistentword' } })).nodes).toEqual([]);
    // Punctuation is not query syntax, and a search without a word in it finds nothing rather than everything.
    expect((await all({ filter: { search: "')(&|!:*" } })).nodes).toEqual([]);
    expect((await all({ filter: { search: '%' } })).nodes).toEqual([]);
  });

  it.each([
    ['TITLE', (a: Node, b: Node) => Buffer.compare(Buffer.from(a.title.toLowerCase()), Buffer.from(b.title.toLowerCase())) <= 0],
    ['POPULARITY', (a: Node, b: Node) => a.enrollmentCount >= b.enrollmentCount],
    ['PRICE_LOW_TO_HIGH', (a: Node, b: Node) => (a.price?.currency ?? '') < (b.price?.currency ?? '') || ((a.price?.currency ?? '') === (b.price?.currency ?? '') && (a.price?.amount ?? 0) <= (b.price?.amount ?? 0))],
    ['PRICE_HIGH_TO_LOW', (a: Node, b: Node) => (b.price === null) || (a.price !== null && (a.price.currency < b.price.currency || (a.price.currency === b.price.currency && a.price.amount >= b.price.amount)))],
  ])('orders by %s across pages', async (orderBy, inOrder) => {
    const { nodes } = await all({ orderBy });
    for (let i = 1; i < nodes.length; i++) expect(inOrder(nodes[i - 1]!, nodes[i]!), `${orderBy} at ${i}: ${JSON.stringify([nodes[i - 1], nodes[i]])}`).toBe(true);
  });

  it(`caps the page size at ${MAX_PAGE_SIZE} and rejects bad cursors, naming the argument`, async () => {
    const big = await h.request(CATALOG, { variables: { first: MAX_PAGE_SIZE + 1 } });
    expect(errorCode(big)).toBe('BAD_USER_INPUT');
    expect(big.errors![0]!.extensions!.field).toBe('first');
    const cursor = await h.request(CATALOG, { variables: { first: 5, after: 'bogus' } });
    expect(errorCode(cursor)).toBe('BAD_USER_INPUT');
  });

  it.each([
    [{ price: { currency: 'USD', min: 500, max: 100 } }, 'filter.price.min'],
    [{ price: { currency: 'NOPE' } }, 'filter.price.currency'],
    [{ instructorId: 'nobody' }, 'filter.instructorId'],
    [{ search: 'x'.repeat(201) }, 'filter.search'],
  ])('rejects the filter %j naming %s', async (filter, field) => {
    const r = await h.request(CATALOG, { variables: { filter } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.extensions!.field).toBe(field);
  });

  it('lists drafts and archived courses for admins only', async () => {
    const filter = { status: ['DRAFT', 'ARCHIVED'] };
    const { nodes } = await all({ filter }, admin);
    expect(nodes.length).toBe(await h.service.prisma.course.count({ where: { status: { in: ['DRAFT', 'ARCHIVED'] } } }));
    expect(errorCode(await h.request(CATALOG, { variables: { filter } }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await h.request(CATALOG, { as: await h.person('curious', 'INSTRUCTOR'), variables: { filter } }))).toBe('FORBIDDEN');
  });
});
