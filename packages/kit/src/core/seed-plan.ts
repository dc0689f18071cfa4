/**
 * The demo data's shared plan (docs/service-shape.md): which courses exist, who teaches them, their
 * prices, who enrolls in what, which purchases were refunded, and the people's names. Every seed
 * derives its rows from this one deterministic plan, so the users, courses and payments seeds tell
 * the same story without reading each other's databases or importing each other: the courses seed
 * writes the courses and enrollments, the payments seed the orders behind the purchases, with the
 * buyers' names the users seed wrote.
 *
 * Deterministic: the same scale gives the same plan every time, and course i is the same course at
 * every scale.
 */
import { createHash } from 'node:crypto';
import { DEMO_ACCOUNTS, seededInstructorId, seededStudentId, seedSize, seedUuid } from './seed-ids.ts';

export type CourseCategory =
  | 'DEVELOPMENT'
  | 'BUSINESS'
  | 'DESIGN'
  | 'DATA_SCIENCE'
  | 'IT_AND_SOFTWARE'
  | 'MARKETING'
  | 'PERSONAL_DEVELOPMENT'
  | 'PHOTOGRAPHY'
  | 'MUSIC'
  | 'LANGUAGES'
  | 'HEALTH_AND_FITNESS';
export type CourseLevel = 'BEGINNER' | 'INTERMEDIATE' | 'ADVANCED' | 'ALL_LEVELS';
export type CourseStatus = 'DRAFT' | 'PUBLISHED' | 'ARCHIVED';
export type EnrollmentStatus = 'ACTIVE' | 'COMPLETED' | 'REVOKED';
export type EnrollmentSource = 'FREE' | 'PURCHASE' | 'ADMIN';
type Category = CourseCategory;
type Level = CourseLevel;
type Status = CourseStatus;
type Source = EnrollmentSource;

// ---------------------------------------------------------------------------------------------
// People: the names the users seed writes, for seeds that snapshot them (payments' receipts).

const FIRST = ['Alex', 'Bea', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goro', 'Hana', 'Ivan', 'Jia', 'Kofi', 'Lena', 'Mateo', 'Nia', 'Omar', 'Priya'];
const LAST = ['Okafor', 'Schmidt', 'Tanaka', 'Silva', 'Novak', 'Haddad', 'Kim', 'Rossi', 'Dubois', 'Singh', 'Larsen', 'Moreau'];
/** The name of generated person `i`. */
export const seedPersonName = (i: number) => `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`;

/** Seeded instructor `i` (0 = the demo instructor). */
export function seededInstructorProfile(i: number): { id: string; name: string; email: string } {
  if (i === 0) return { id: DEMO_ACCOUNTS[1].id, name: DEMO_ACCOUNTS[1].name, email: DEMO_ACCOUNTS[1].email };
  return { id: seededInstructorId(i), name: seedPersonName((i - 1) * 7 + 3), email: `instructor${i}@campus.test` };
}

/** Seeded student `i` (0 = the demo student). */
export function seededStudentProfile(i: number): { id: string; name: string; email: string } {
  if (i === 0) return { id: DEMO_ACCOUNTS[2].id, name: DEMO_ACCOUNTS[2].name, email: DEMO_ACCOUNTS[2].email };
  return { id: seededStudentId(i), name: seedPersonName(i - 1), email: `student${i}@campus.test` };
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: one generator per entity, seeded from its name, so adding courses at a
// larger scale never changes the earlier ones.

export function rng(name: string): () => number {
  let a = createHash('sha1').update(`campus-seed-rng:${name}`).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
export const gaussian = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
export const logNormal = (r: () => number, median: number, sigma: number) => median * Math.exp(sigma * gaussian(r));
export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
export const DAY = 86_400_000;
/** "Now" of the demo data, fixed so dates are deterministic. */
export const ANCHOR = Date.UTC(2026, 9, 1);

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
const LEVELS: Level[] = ['BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'ALL_LEVELS'];
const TIERS = [1999, 2999, 4999, 7999, 9999, 14999, 19999];
const JPY_TIERS = [1500, 2400, 3600, 6000, 9800, 12000, 18000];

// ---------------------------------------------------------------------------------------------
// Courses and enrollments: what the courses seed writes, as plain data; the payments seed derives
// the orders behind the purchases from it.

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
