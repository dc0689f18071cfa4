/**
 * Every catalog filter and order has an index that serves it. Each statement the catalog sends is
 * captured as sent (with its parameters) and EXPLAINed inside a transaction that drops every other
 * index of Course and prices sequential scans out of reach, then rolls back: a plan that still
 * scans Course sequentially would mean the index cannot serve that statement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCourses } from '@campus/courses/seed';
import { ok, startCourses, type CoursesHarness } from './harness.ts';

const CATALOG = /* GraphQL */ `
  query($filter: CourseFilter, $orderBy: CourseOrder) { courses(first: 10, filter: $filter, orderBy: $orderBy) { totalCount edges { node { id } } } }
`;

/** Indexes a constraint owns cannot be dropped; they never serve catalog filters anyway. */
const CONSTRAINT_INDEXES = ['Course_pkey', 'Course_slug_key'];

class Rollback extends Error {}

describe('catalog indexes', () => {
  let h: CoursesHarness;

  beforeAll(async () => {
    h = await startCourses();
    await seedCourses(h.service.prisma, 1);
  });
  afterAll(() => h?.close());

  /** The plans of the Course statements one catalog request sends, with only `keep` left to use. */
  async function plansWithOnly(keep: string, variables: Record<string, unknown>): Promise<string[]> {
    const sent: { sql: string; params: unknown[] }[] = [];
    const stop = h.service.onStatement((sql, params) => {
      if (/FROM "Course" c/.test(sql)) sent.push({ sql, params: JSON.parse(params) as unknown[] });
    });
    try {
      ok(await h.request(CATALOG, { variables }));
    } finally {
      stop();
    }
    const plans: string[] = [];
    await h.service.prisma
      .$transaction(async (tx) => {
        const indexes = await tx.$queryRaw<{ name: string }[]>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'Course'`;
        expect(indexes.map((i) => i.name)).toContain(keep);
        for (const { name } of indexes) {
          if (name !== keep && !CONSTRAINT_INDEXES.includes(name)) await tx.$executeRawUnsafe(`DROP INDEX "${name}"`);
        }
        await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
        for (const { sql, params } of sent) {
          const rows = await tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, ...params);
          plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
        }
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
    return plans;
  }

  it.each([
    ['newest first', 'Course_status_publishedAt_idx', {}],
    ['a category', 'Course_status_category_idx', { filter: { category: 'DEVELOPMENT' } }],
    ['a level', 'Course_status_level_idx', { filter: { level: 'BEGINNER' } }],
    ['a language', 'Course_status_language_idx', { filter: { language: 'en' } }],
    ['an instructor', 'Course_instructorId_createdAt_idx', { filter: { instructorId: '00000000-0000-4000-8000-000000000000' } }],
    ['free courses', 'Course_status_priceCurrency_priceAmount_idx', { filter: { isFree: true } }],
    ['a price range', 'Course_status_priceCurrency_priceAmount_idx', { filter: { price: { currency: 'USD', min: 1000, max: 5000 } } }],
    ['text search', 'Course_search_idx', { filter: { search: 'typescript react' } }],
    ['title order', 'Course_status_title_sort_idx', { orderBy: 'TITLE' }],
    ['popularity order', 'Course_status_enrollmentCount_idx', { orderBy: 'POPULARITY' }],
  ])('serves %s from %s', async (_what, index, variables) => {
    const plans = await plansWithOnly(index, variables);
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan, plan).not.toMatch(/Seq Scan on "Course"/);
      expect(plan, plan).toContain(index);
    }
  });
});
