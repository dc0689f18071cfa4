/**
 * The subgraph's own series on GET /metrics (docs/observability.md, "Metrics: subgraphs"), after
 * requests that must move them: errors by code, requests by type, statements by kind, loader
 * batches, the outbox backlog and live updates. The harness runs without a bus, so the outbox
 * relay is off and every outbox row the requests write stays unpublished.
 */
import { errorCode } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_LESSON, buildCourse, COURSE, UPDATE_COURSE, type BuiltCourse } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

/** The value of the one series `name` whose labels include `labels` (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const own = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('courses metrics', () => {
  let h: CoursesHarness;
  let instructor: Person;
  let courses: BuiltCourse[];
  const scrape = async () => {
    const res = await fetch(h.url.replace(/\/graphql$/, '/metrics'));
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    h = await startCourses();
    instructor = await h.person('metrics-teacher', 'INSTRUCTOR');
    courses = [];
    for (let i = 0; i < 3; i++) courses.push(await buildCourse(h, instructor, { lessons: 1 }));
  });
  afterAll(() => h?.close());

  it('counts a resolver error under its code, and the request under its operation type', async () => {
    const before = await scrape();
    const r = await h.request(ADD_LESSON, {
      as: instructor,
      variables: { input: { courseId: '00000000-0000-4000-8000-000000000000', title: 'x', content: 'y' } },
    });
    expect(errorCode(r)).toBe('NOT_FOUND');
    const after = await scrape();
    const notFound = { code: 'NOT_FOUND', service: 'courses' };
    expect(sample(after, 'campus_graphql_errors_total', notFound)).toBe((sample(before, 'campus_graphql_errors_total', notFound) ?? 0) + 1);
    const mutations = { operation_type: 'mutation' };
    expect(sample(after, 'campus_graphql_requests_total', mutations)).toBe((sample(before, 'campus_graphql_requests_total', mutations) ?? 0) + 1);
  });

  it('counts and times the statements a query sends, by kind', async () => {
    const before = await scrape();
    ok(await h.request(COURSE, { as: instructor, variables: { id: courses[0]!.id } }));
    const after = await scrape();
    const select = { kind: 'select' };
    const sent = sample(after, 'campus_db_queries_total', select)! - (sample(before, 'campus_db_queries_total', select) ?? 0);
    expect(sent).toBeGreaterThan(0);
    // Every statement counted is also timed.
    const timed = sample(after, 'campus_db_query_duration_seconds_count', select)! - (sample(before, 'campus_db_query_duration_seconds_count', select) ?? 0);
    expect(timed).toBe(sent);
    expect(sample(after, 'campus_db_query_duration_seconds_sum', select)).toBeGreaterThan(0);
    // Writes were counted under their own kinds while the courses were built.
    expect(sample(after, 'campus_db_queries_total', { kind: 'insert' })).toBeGreaterThan(0);
  });

  it('shows one loader batch holding every key a request asked for', async () => {
    const loader = { loader: 'courseById' };
    const before = await scrape();
    const r = await h.request(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Course { id title } } }`, {
      as: instructor,
      variables: { reps: courses.map((c) => ({ __typename: 'Course', id: c.id })) },
    });
    expect(ok(r)._entities).toHaveLength(3);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(delta('campus_dataloader_batches_total', loader)).toBe(1);
    expect(delta('campus_dataloader_batch_size_count', loader)).toBe(1);
    expect(delta('campus_dataloader_batch_size_sum', loader)).toBe(3);
    // In the bucket of 5 keys, not in the one of 2.
    expect(delta('campus_dataloader_batch_size_bucket', { ...loader, le: '2' })).toBe(0);
    expect(delta('campus_dataloader_batch_size_bucket', { ...loader, le: '5' })).toBe(1);
  });

  it('shows the unpublished outbox rows and the age of the oldest', async () => {
    const [row] = await h.service.prisma.$queryRawUnsafe<{ count: number }[]>(
      `SELECT count(*)::int AS "count" FROM "OutboxEvent" WHERE "publishedAt" IS NULL`,
    );
    expect(row!.count).toBeGreaterThan(0);
    const text = await scrape();
    expect(sample(text, 'campus_outbox_unpublished_events')).toBe(row!.count);
    const age = sample(text, 'campus_outbox_oldest_unpublished_age_seconds')!;
    expect(age).toBeGreaterThan(0);
    expect(age).toBeLessThan(600);
  });

  it('counts a published live update', async () => {
    const published = { outcome: 'ok' };
    const before = sample(await scrape(), 'campus_live_updates_published_total', published) ?? 0;
    ok(await h.request(UPDATE_COURSE, { as: instructor, variables: { input: { courseId: courses[1]!.id, title: 'Renamed for metrics' } } }));
    const text = await scrape();
    expect(sample(text, 'campus_live_updates_published_total', published)).toBe(before + 1);
    expect(sample(text, 'campus_live_updates_published_total', { outcome: 'failed' })).toBe(0);
    expect(sample(text, 'campus_live_updates_published_total', { outcome: 'timed_out' })).toBe(0);
  });
});
