/**
 * `npm run events:dead-letters` (scripts/events-dead-letters.ts), run as its own process the way
 * npm runs it, against the shared Redis (TEST_REDIS_URL) under a prefix of its own, after a real
 * consumer gave up on an event. Skipped without TEST_REDIS_URL.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { domainEvent, type DeadLetter, type DomainEvent } from '../src/events/event-bus.ts';
import { createRedisEventBus } from '../src/events/redis-bus.ts';

const url = process.env.TEST_REDIS_URL;
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function command(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const { REDIS_URL: _url, REDIS_EVENTS_PREFIX: _prefix, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', 'scripts/events-dead-letters.ts', ...args],
      { cwd: root, env: { ...inherited, ...env }, timeout: 30_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe.skipIf(!url)('npm run events:dead-letters', () => {
  const prefix = `campus-test-${randomBytes(4).toString('hex')}:events:`;
  const env = { REDIS_URL: url, REDIS_EVENTS_PREFIX: prefix };
  afterAll(async () => {
    const redis = new Redis(url!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('lists what consumers gave up on and replays it to its own group', async () => {
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const bus = createRedisEventBus(url!, { prefix, retryAfterMs: 100, blockMs: 100, maxDeliveries: 2 });
    try {
      let coursesBroken = true;
      let reportsBroken = true;
      const courses: DomainEvent[] = [];
      const reports: DomainEvent[] = [];
      await bus.consume('courses', [type], async (e) => {
        if (coursesBroken) throw new Error('enrollments table is locked');
        courses.push(e);
      });
      await bus.consume('reports', [type], async (e) => {
        if (reportsBroken) throw new Error('report store down');
        reports.push(e);
      });
      const first = domainEvent(type, { n: 1 });
      await bus.publish(first);
      await vi.waitUntil(async () => (await bus.deadLetterCount()) === 2, { timeout: 20_000, interval: 50 }); // both groups gave up
      const [ofCourses] = await bus.deadLetters({ group: 'courses' });
      const [ofReports] = await bus.deadLetters({ group: 'reports' });

      const list = await command(['list'], env);
      expect(list.code).toBe(0);
      expect(list.stdout).toContain(`2 dead letter(s) under ${prefix}`);
      for (const d of [ofCourses, ofReports] as DeadLetter[]) {
        expect(list.stdout).toContain(`${d.id}  ${d.deadAt}  group=${d.group}  ${type} ${first.id}  deliveries=2  error: ${d.error}`);
      }
      const some = await command(['list', '--group', 'courses', '--limit', '1', '--json'], env);
      expect(some.code).toBe(0);
      expect(JSON.parse(some.stdout)).toEqual([ofCourses]);

      coursesBroken = false;
      reportsBroken = false;
      const replay = await command(['replay', '--group', 'courses'], env);
      expect(replay.code).toBe(0);
      expect(replay.stdout).toMatch(/replayed 1 dead letter\(s\) \(every of group courses\).*; 1 left/);
      await vi.waitUntil(() => courses.length === 1, { timeout: 10_000, interval: 20 }); // replayed delivery
      expect(courses[0]).toEqual(first);

      const byId = await command(['replay', '--id', ofReports!.id, '1-0'], env);
      expect(byId.code).toBe(0);
      expect(byId.stdout).toMatch(/replayed 1 dead letter\(s\) \(2 named\).*; 0 left/);
      expect(byId.stdout).toContain('1 id(s) were not dead letters');
      await vi.waitUntil(() => reports.length === 1, { timeout: 10_000, interval: 20 }); // replayed delivery
      // Each group got the replay, and only its own: courses once, reports once.
      expect(courses).toHaveLength(1);
      expect(reports).toEqual([first]);
    } finally {
      await bus.close();
    }
  });

  it('explains what is wrong and exits non-zero', async () => {
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [[], env, /no command given[\s\S]*usage:/],
      [['purge'], env, /unknown command "purge"/],
      [['list', '--limit', 'ten'], env, /--limit must be a positive whole number/],
      [['list', '--id', 'x'], env, /unknown option "--id" for list/],
      [['replay', '--group'], env, /--group needs a value/],
      [['replay', '--id', 'not-an-id'], env, /"not-an-id" is not a dead letter id/],
      [['list'], { REDIS_EVENTS_PREFIX: prefix }, /REDIS_URL is not set/],
      [['list'], { REDIS_URL: 'redis://127.0.0.1:1' }, /cannot reach Redis at 127\.0\.0\.1:1/],
    ];
    for (const [args, withEnv, message] of cases) {
      const run = await command(args, withEnv);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
  });
});
