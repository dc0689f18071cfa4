/**
 * Demo and benchmark data for the courses service (docs/courses.md), deterministic: the same
 * scale gives the same rows, ids and dates every time, and course i is the same course at every
 * scale. At scale 1: ~60 courses (mostly published, a few drafts and archived; ~20% free; USD, EUR,
 * GBP and the zero-decimal JPY), a median of ~30 lessons with preview lessons, a few hundred
 * students with enrollments and progress. Larger scales (`npm run db:seed -- --scale 100`) load
 * tens of thousands of enrollments and over a million progress rows for benchmarks.
 *
 * Instructors and students are the users seed's (same seedSize, same deterministic ids).
 *   - The demo instructor teaches courses 0-6: five published (free, USD, EUR, JPY, free), a draft
 *     and an archived course.
 *   - The demo student is enrolled in three of them (free with some progress, a completed
 *     purchase, a barely started JPY purchase) and can still enroll in course 4 or buy course 2.
 *   - student1 is a "power learner" enrolled in up to 55 courses (exercises batching).
 * Idempotent: existing rows are skipped, counters recomputed.
 */
import { createHash } from 'node:crypto';
import { seededInstructorId, seededStudentId, seedSize, seedUuid } from '@campus/kit/core';
import { PrismaClient, type Prisma } from './generated/prisma/client.ts';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

type Category = Prisma.CourseCreateManyInput['category'];
type Level = NonNullable<Prisma.CourseCreateManyInput['level']>;
type Status = NonNullable<Prisma.CourseCreateManyInput['status']>;
type EnrollmentStatus = NonNullable<Prisma.EnrollmentCreateManyInput['status']>;
type Source = Prisma.EnrollmentCreateManyInput['source'];

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: one generator per entity, seeded from its name, so adding courses at a
// larger scale never changes the earlier ones.

function rng(name: string): () => number {
  let a = createHash('sha1').update(`campus-seed-rng:${name}`).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const gaussian = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const logNormal = (r: () => number, median: number, sigma: number) => median * Math.exp(sigma * gaussian(r));
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const DAY = 86_400_000;
/** "Now" of the demo data, fixed so dates are deterministic. */
const ANCHOR = Date.UTC(2026, 9, 1);

// ---------------------------------------------------------------------------------------------
// Catalog vocabulary.

const TOPICS: Record<Category, string[]> = {
  DEVELOPMENT: ['TypeScript', 'React', 'Node.js', 'Rust', 'Go', 'Python', 'GraphQL', 'Kotlin', 'PostgreSQL', 'Svelte'],
  BUSINESS: ['Project Management', 'Startup Finance', 'Negotiation', 'Product Strategy', 'Business Writing'],
  DESIGN: ['UX Research', 'Figma', 'Typography', 'Design Systems', 'Illustration'],
  DATA_SCIENCE: ['Machine Learning', 'Statistics', 'Pandas', 'Deep Learning', 'Data Visualization'],
  IT_AND_SOFTWARE: ['Kubernetes', 'Linux Administration', 'AWS', 'Network Security', 'Terraform'],
  MARKETING: ['SEO', 'Content Marketing', 'Email Marketing', 'Brand Strategy', 'Growth Analytics'],
  PERSONAL_DEVELOPMENT: ['Public Speaking', 'Time Management', 'Career Planning', 'Mindful Productivity'],
  PHOTOGRAPHY: ['Portrait Photography', 'Lightroom', 'Street Photography', 'Video Editing'],
  MUSIC: ['Piano', 'Music Theory', 'Guitar', 'Music Production'],
  LANGUAGES: ['Spanish', 'Japanese', 'German', 'French'],
  HEALTH_AND_FITNESS: ['Yoga', 'Nutrition', 'Strength Training', 'Running'],
};
const CATEGORIES = Object.keys(TOPICS) as Category[];
/** Development is the biggest category on every marketplace. */
const CATEGORY_WEIGHTS: Record<Category, number> = {
  DEVELOPMENT: 5, BUSINESS: 2, DESIGN: 2, DATA_SCIENCE: 3, IT_AND_SOFTWARE: 2, MARKETING: 1,
  PERSONAL_DEVELOPMENT: 1, PHOTOGRAPHY: 1, MUSIC: 1, LANGUAGES: 1, HEALTH_AND_FITNESS: 1,
};
const TITLES = [
  '{t} from Scratch', 'Modern {t}: A Practical Guide', 'Mastering {t}', '{t} for Beginners', 'Advanced {t} Patterns',
  'The Complete {t} Bootcamp', '{t} in 30 Days', 'Hands-on {t}', '{t} Essentials', 'Professional {t}',
];
const SUBTITLES = [
  'Build real projects and learn why each step works',
  'Everything you need, nothing you do not',
  'From first steps to confident practice',
  'A project-based course with exercises and quizzes',
];
const VERBS = ['Understanding', 'Working with', 'Building', 'Testing', 'Debugging', 'Exploring', 'Designing', 'Improving', 'Practising'];
const CONCEPTS = [
  'the basics', 'core concepts', 'common patterns', 'error handling', 'performance', 'best practices', 'a real project',
  'the tooling', 'edge cases', 'the ecosystem', 'advanced techniques', 'a case study',
];
const LEVELS: Level[] = ['BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'ALL_LEVELS'];
const TIERS = [1999, 2999, 4999, 7999, 9999, 14999, 19999];
const JPY_TIERS = [1500, 2400, 3600, 6000, 9800, 12000, 18000];

// ---------------------------------------------------------------------------------------------
// The plan: what the seed writes, as plain data. Exported so other seeds (payments) can derive
// orders for the same purchases without reading this service's database.

export interface CoursesSeedSize {
  courses: number;
  instructors: number;
  students: number;
}

export function coursesSeedSize(scale = 1): CoursesSeedSize {
  const people = seedSize(scale);
  // At least the demo instructor's seven courses and one more, whatever the scale.
  return { courses: Math.max(8, Math.round(60 * scale)), ...people };
}

export interface PlannedCourse {
  id: string;
  index: number;
  slug: string;
  title: string;
  subtitle: string | null;
  description: string;
  category: Category;
  level: Level;
  language: string;
  priceAmount: number | null;
  priceCurrency: string | null;
  status: Status;
  instructorId: string;
  createdAt: Date;
  publishedAt: Date | null;
  archivedAt: Date | null;
  lessonCount: number;
  /** Relative popularity: enrollments are drawn in proportion to it. */
  weight: number;
}

export interface PlannedEnrollment {
  id: string;
  userId: string;
  courseId: string;
  source: Source;
  paymentId: string | null;
  status: EnrollmentStatus;
  enrolledAt: Date;
  revokedAt: Date | null;
  /** Lessons completed, in curriculum positions (1-based). */
  completedPositions: number[];
}

/** The demo instructor's courses: [category, status, price] for indexes 0-6. */
const DEMO_COURSES: [Category, Status, [number, string] | null][] = [
  ['DEVELOPMENT', 'PUBLISHED', null],
  ['DEVELOPMENT', 'PUBLISHED', [4999, 'USD']],
  ['DATA_SCIENCE', 'PUBLISHED', [2999, 'EUR']],
  ['DEVELOPMENT', 'PUBLISHED', [6000, 'JPY']],
  ['DESIGN', 'PUBLISHED', null],
  ['DEVELOPMENT', 'DRAFT', [1999, 'USD']],
  ['BUSINESS', 'ARCHIVED', [2999, 'USD']],
];

function weightedCategory(r: () => number): Category {
  const total = CATEGORIES.reduce((sum, c) => sum + CATEGORY_WEIGHTS[c], 0);
  let x = r() * total;
  for (const c of CATEGORIES) if ((x -= CATEGORY_WEIGHTS[c]) < 0) return c;
  return 'DEVELOPMENT';
}

function instructorFor(i: number, r: () => number, instructors: number): string {
  if (i < DEMO_COURSES.length || instructors === 1) return seededInstructorId(0);
  // Mostly one or two courses each, a few prolific ones: weight instructor k by 1/k.
  const weights = Array.from({ length: instructors - 1 }, (_, k) => 1 / (k + 1));
  let x = r() * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < weights.length; k++) if ((x -= weights[k]!) < 0) return seededInstructorId(k + 1);
  return seededInstructorId(1);
}

function planCourse(i: number, size: CoursesSeedSize, slugs: Set<string>): PlannedCourse {
  const r = rng(`course:${i}`);
  const demo = DEMO_COURSES[i];
  const category = demo?.[0] ?? weightedCategory(r);
  const topic = pick(r, TOPICS[category]);
  const title = TITLES[(i * 7 + topic.length) % TITLES.length]!.replace('{t}', topic);
  const base = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  let slug = base;
  for (let n = 2; slugs.has(slug); n++) slug = `${base}-${n}`;
  slugs.add(slug);

  const roll = r();
  const status: Status = demo?.[1] ?? (roll < 0.85 ? 'PUBLISHED' : roll < 0.94 ? 'DRAFT' : 'ARCHIVED');
  let price: [number, string] | null;
  if (demo) price = demo[2];
  else if (r() < 0.2) price = null;
  else {
    const c = r();
    const currency = c < 0.75 ? 'USD' : c < 0.87 ? 'EUR' : c < 0.93 ? 'GBP' : 'JPY';
    price = [pick(r, currency === 'JPY' ? JPY_TIERS : TIERS), currency];
  }
  const language = price?.[1] === 'JPY' ? 'ja' : category === 'LANGUAGES' ? 'en' : pick(r, ['en', 'en', 'en', 'en', 'es', 'de', 'fr', 'pt-BR']);
  const createdAt = new Date(ANCHOR - Math.floor((60 + r() * 660) * DAY));
  const publishedAt = status === 'DRAFT' ? null : new Date(createdAt.getTime() + Math.floor((1 + r() * 30) * DAY));
  const archivedAt = status === 'ARCHIVED' ? new Date(publishedAt!.getTime() + Math.floor((30 + r() * 200) * DAY)) : null;
  return {
    id: seedUuid(`course:${i}`),
    index: i,
    slug,
    title,
    subtitle: r() < 0.8 ? pick(r, SUBTITLES) : null,
    description:
      `${title} teaches ${topic} step by step. You will practise on realistic examples, learn the reasoning behind ` +
      `each technique and finish with a project you can show. ${pick(r, ['No prior experience needed.', 'Some experience helps.', 'Ideal if you already know the basics.'])}`,
    category,
    level: pick(r, LEVELS),
    language,
    priceAmount: price?.[0] ?? null,
    priceCurrency: price?.[1] ?? null,
    status,
    instructorId: instructorFor(i, r, size.instructors),
    createdAt,
    publishedAt,
    archivedAt,
    // Log-normal, median 30 (sigma 0.8 puts p90 near 85), at least 5 as marketplaces require.
    lessonCount: Math.round(clamp(logNormal(r, 30, 0.8), 5, 400)),
    // Zipf-like popularity: a few courses take most learners.
    weight: 1 / (1 + Math.floor(r() * 40)) ** 1.1,
  };
}

function lessonRows(course: PlannedCourse): Prisma.LessonCreateManyInput[] {
  const r = rng(`lessons:${course.index}`);
  const topic = course.title;
  const previewSecond = r() < 0.5;
  return Array.from({ length: course.lessonCount }, (_, k) => {
    const position = k + 1;
    const title =
      position === 1
        ? 'Welcome and course overview'
        : position === course.lessonCount
          ? 'Wrap-up and next steps'
          : position === 2
            ? 'Setting up your environment'
            : `${pick(r, VERBS)} ${pick(r, CONCEPTS)}`;
    const video = r() < 0.7;
    const words = Math.round(clamp(logNormal(r, 400, 0.5), 120, 2000));
    const text = Array.from(
      { length: Math.ceil(words / 40) },
      (_, p) => `Part ${p + 1} of "${title}" in ${topic}: we work through an example, explain the choices it makes and note the mistakes people make most often.`,
    ).join('\n\n');
    return {
      id: seedUuid(`lesson:${course.index}:${position}`),
      courseId: course.id,
      position,
      title,
      contentType: video ? 'VIDEO' : 'TEXT',
      content: video ? `https://media.campus.test/videos/${course.slug}/${position}.mp4` : text,
      durationSeconds: video ? Math.round(clamp(logNormal(r, 420, 0.6), 120, 1800)) : Math.max(60, Math.ceil((words / 240) * 60)),
      isPreview: position === 1 || (position === 2 && previewSecond),
      createdAt: course.createdAt,
      updatedAt: course.createdAt,
    };
  });
}

/** Progress skewed early (attrition is front-loaded): ~35% barely start, ~50% partway, ~15% finish. */
function progressFor(r: () => number, lessonCount: number): number[] {
  const roll = r();
  const reached = roll < 0.35 ? Math.floor(r() * 2) : roll < 0.85 ? Math.max(1, Math.floor(lessonCount * r() ** 1.5)) : lessonCount;
  const done: number[] = [];
  // Mostly in order, with the occasional skipped lesson.
  for (let p = 1; p <= reached; p++) if (reached === lessonCount || r() > 0.05) done.push(p);
  return done;
}

function planEnrollment(
  userId: string,
  course: PlannedCourse,
  r: () => number,
  override?: { source?: Source; completed?: 'all' | number },
): PlannedEnrollment {
  const source: Source = override?.source ?? (course.priceAmount === null ? 'FREE' : r() < 0.04 ? 'ADMIN' : 'PURCHASE');
  const from = course.publishedAt!.getTime();
  const enrolledAt = new Date(from + Math.floor(r() * Math.max(DAY, Math.min(ANCHOR, course.archivedAt?.getTime() ?? ANCHOR) - from)));
  const completedPositions =
    override?.completed === 'all'
      ? Array.from({ length: course.lessonCount }, (_, k) => k + 1)
      : override?.completed !== undefined
        ? Array.from({ length: override.completed }, (_, k) => k + 1)
        : progressFor(r, course.lessonCount);
  // Refunds: a few percent of purchases (inside the refund window).
  const revoked = !override && source === 'PURCHASE' && r() < 0.04;
  return {
    id: seedUuid(`enrollment:${userId}:${course.id}`),
    userId,
    courseId: course.id,
    source,
    paymentId: source === 'PURCHASE' ? seedUuid(`payment:${userId}:${course.id}`) : null,
    status: revoked ? 'REVOKED' : completedPositions.length === course.lessonCount ? 'COMPLETED' : 'ACTIVE',
    enrolledAt,
    revokedAt: revoked ? new Date(enrolledAt.getTime() + Math.floor((1 + r() * 13) * DAY)) : null,
    completedPositions,
  };
}

export interface CoursesSeedPlan {
  size: CoursesSeedSize;
  courses: PlannedCourse[];
  enrollments: PlannedEnrollment[];
}

export function planCoursesSeed(scale = 1): CoursesSeedPlan {
  const size = coursesSeedSize(scale);
  const slugs = new Set<string>();
  const courses = Array.from({ length: size.courses }, (_, i) => planCourse(i, size, slugs));
  // Learners can have enrolled in archived courses before they were archived; never in drafts.
  const open = courses.filter((c) => c.status !== 'DRAFT');
  const totalWeight = open.reduce((sum, c) => sum + c.weight, 0);
  const draw = (r: () => number) => {
    let x = r() * totalWeight;
    for (const c of open) if ((x -= c.weight) < 0) return c;
    return open[0]!;
  };

  const enrollments: PlannedEnrollment[] = [];
  const demoStudent = seededStudentId(0);
  const dr = rng('enrollments:demo');
  enrollments.push(
    planEnrollment(demoStudent, courses[0]!, dr, { completed: Math.ceil(courses[0]!.lessonCount * 0.4) }),
    planEnrollment(demoStudent, courses[1]!, dr, { source: 'PURCHASE', completed: 'all' }),
    planEnrollment(demoStudent, courses[3]!, dr, { source: 'PURCHASE', completed: 1 }),
  );
  for (let s = 1; s < size.students; s++) {
    const userId = seededStudentId(s);
    const r = rng(`enrollments:${s}`);
    const mine = new Map<string, PlannedCourse>();
    if (s === 1) {
      for (const c of open.slice(0, 55)) mine.set(c.id, c);
    } else {
      // 1 to 6 courses, about half of the learners with exactly one.
      const count = Math.min(open.length, 1 + Math.floor(r() ** 2 * 6));
      for (let tries = 0; mine.size < count && tries < count * 10; tries++) {
        const c = draw(r);
        mine.set(c.id, c);
      }
    }
    for (const c of mine.values()) enrollments.push(planEnrollment(userId, c, r));
  }
  return { size, courses, enrollments };
}

// ---------------------------------------------------------------------------------------------
// Writing the plan.

const CHUNK = 2_000;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<{ count: number }>): Promise<number> {
  let count = 0;
  for (let i = 0; i < rows.length; i += CHUNK) count += (await insert(rows.slice(i, i + CHUNK))).count;
  return count;
}

export async function seedCourses(prisma: PrismaClient, scale = 1): Promise<Record<string, number>> {
  const plan = planCoursesSeed(scale);
  const created: Record<string, number> = {};
  created.courses = await insertChunked(plan.courses, (chunk) =>
    prisma.course.createMany({
      skipDuplicates: true,
      data: chunk.map(({ index: _i, lessonCount: _l, weight: _w, ...course }) => ({
        ...course,
        updatedAt: course.archivedAt ?? course.publishedAt ?? course.createdAt,
      })),
    }),
  );

  const lessonIds = new Map<string, string[]>();
  let lessons = 0;
  for (let i = 0; i < plan.courses.length; i += 50) {
    const rows = plan.courses.slice(i, i + 50).flatMap((course) => {
      const ls = lessonRows(course);
      lessonIds.set(course.id, ls.map((l) => l.id!));
      return ls;
    });
    lessons += await insertChunked(rows, (chunk) => prisma.lesson.createMany({ data: chunk, skipDuplicates: true }));
  }
  created.lessons = lessons;

  const byId = new Map(plan.courses.map((c) => [c.id, c]));
  created.enrollments = 0;
  created.lessonProgress = 0;
  // Enrollments stream out in slices, so a large scale never holds every progress row at once.
  for (let i = 0; i < plan.enrollments.length; i += CHUNK) {
    const slice = plan.enrollments.slice(i, i + CHUNK);
    const progress: Prisma.LessonProgressCreateManyInput[] = [];
    const history: Prisma.EnrollmentChangeCreateManyInput[] = [];
    const rows = slice.map((e) => {
      const ids = lessonIds.get(e.courseId)!;
      // Lessons completed one after another, eight hours apart, from the day of enrollment.
      const times = e.completedPositions.map((_p, k) => new Date(e.enrolledAt.getTime() + (k + 1) * (DAY / 3)));
      e.completedPositions.forEach((p, k) => progress.push({ enrollmentId: e.id, lessonId: ids[p - 1]!, completedAt: times[k]! }));
      const last = times.at(-1) ?? null;
      const finished = last !== null && e.completedPositions.length === byId.get(e.courseId)!.lessonCount;
      const reason = e.source === 'FREE' ? 'enrolled' : e.source === 'PURCHASE' ? 'purchased' : 'admin';
      history.push({ id: seedUuid(`history:${e.id}:1`), enrollmentId: e.id, toStatus: 'ACTIVE', source: e.source, reason, paymentId: e.paymentId, at: e.enrolledAt });
      if (finished) {
        history.push({ id: seedUuid(`history:${e.id}:2`), enrollmentId: e.id, fromStatus: 'ACTIVE', toStatus: 'COMPLETED', reason: 'completed', at: last });
      }
      if (e.revokedAt) {
        history.push({
          id: seedUuid(`history:${e.id}:3`),
          enrollmentId: e.id,
          fromStatus: finished ? 'COMPLETED' : 'ACTIVE',
          toStatus: 'REVOKED',
          reason: 'refunded',
          paymentId: e.paymentId,
          at: e.revokedAt,
        });
      }
      return {
        id: e.id,
        userId: e.userId,
        courseId: e.courseId,
        status: e.status,
        source: e.source,
        paymentId: e.paymentId,
        enrolledAt: e.enrolledAt,
        lastActivityAt: last,
        completedAt: finished ? last : null,
        revokedAt: e.revokedAt,
        revokeReason: e.revokedAt ? 'refunded' : null,
        updatedAt: e.revokedAt ?? last ?? e.enrolledAt,
      } satisfies Prisma.EnrollmentCreateManyInput;
    });
    created.enrollments += (await prisma.enrollment.createMany({ data: rows, skipDuplicates: true })).count;
    await prisma.enrollmentChange.createMany({ data: history, skipDuplicates: true });
    created.lessonProgress += await insertChunked(progress, (chunk) => prisma.lessonProgress.createMany({ data: chunk, skipDuplicates: true }));
  }

  // The denormalized counter, from the rows themselves (see Course.enrollmentCount).
  await prisma.$executeRaw`
    UPDATE "Course" c SET "enrollmentCount" =
      (SELECT count(*) FROM "Enrollment" e WHERE e."courseId" = c."id" AND e."status" IN ('ACTIVE', 'COMPLETED'))`;
  return created;
}

/** The uniform entry every prisma/<service>/seed.ts exports (npm run db:seed, the embedded stack). */
export async function seed(adapter: SqlDriverAdapterFactory, scale: number): Promise<Record<string, number>> {
  const prisma = new PrismaClient({ adapter });
  try {
    return await seedCourses(prisma, scale);
  } finally {
    await prisma.$disconnect();
  }
}
