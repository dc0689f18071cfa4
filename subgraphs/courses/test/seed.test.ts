/** The demo data plan (no database): realistic shapes, deterministic, scaling with its parameter. */
import { coursesSeedSize, DEMO_ACCOUNTS, planCoursesSeed, seededStudentId } from '@campus/kit/core';
import { describe, expect, it } from 'vitest';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the courses seed plan', () => {
  const plan = planCoursesSeed(1);
  const { courses, enrollments } = plan;

  it('has about 60 courses, mostly published, with some drafts and archived ones', () => {
    expect(courses.length).toBe(60);
    const by = (s: string) => courses.filter((c) => c.status === s).length;
    expect(by('PUBLISHED')).toBeGreaterThanOrEqual(45);
    expect(by('DRAFT')).toBeGreaterThanOrEqual(2);
    expect(by('ARCHIVED')).toBeGreaterThanOrEqual(1);
  });

  it('prices courses in minor units in several currencies including JPY, and makes some free', () => {
    const free = courses.filter((c) => c.priceAmount === null);
    expect(free.length / courses.length).toBeGreaterThan(0.1);
    expect(free.every((c) => c.priceCurrency === null)).toBe(true);
    const currencies = new Set(courses.map((c) => c.priceCurrency).filter(Boolean));
    expect(currencies).toContain('JPY');
    expect(currencies.size).toBeGreaterThanOrEqual(3);
    expect(courses.every((c) => c.priceAmount === null || (Number.isInteger(c.priceAmount) && c.priceAmount > 0))).toBe(true);
  });

  it('gives courses a median of about 30 lessons, never fewer than 5', () => {
    const counts = courses.map((c) => c.lessonCount);
    expect(median(counts)).toBeGreaterThanOrEqual(22);
    expect(median(counts)).toBeLessThanOrEqual(40);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(5);
  });

  it('has the demo instructor teach several published courses, a draft and an archived one', () => {
    const demo = courses.filter((c) => c.instructorId === DEMO_ACCOUNTS[1].id);
    expect(demo.filter((c) => c.status === 'PUBLISHED').length).toBeGreaterThanOrEqual(4);
    expect(demo.map((c) => c.status)).toEqual(expect.arrayContaining(['DRAFT', 'ARCHIVED']));
    expect(new Set(courses.map((c) => c.instructorId)).size).toBe(plan.size.instructors);
  });

  it('enrolls the demo student in some courses and a few hundred students overall, with progress', () => {
    const demo = enrollments.filter((e) => e.userId === DEMO_ACCOUNTS[2].id);
    expect(demo.length).toBeGreaterThanOrEqual(2);
    expect(demo.some((e) => e.status === 'COMPLETED')).toBe(true);
    const learners = new Set(enrollments.map((e) => e.userId));
    expect(learners.size).toBeGreaterThanOrEqual(250);
    expect(enrollments.filter((e) => e.completedPositions.length > 0).length / enrollments.length).toBeGreaterThan(0.5);
    expect(enrollments.some((e) => e.status === 'REVOKED')).toBe(true);
    expect(enrollments.filter((e) => e.userId === seededStudentId(1)).length).toBeGreaterThanOrEqual(50);
  });

  it('never enrolls anyone in a draft, and enrolls each learner in a course at most once', () => {
    const drafts = new Set(courses.filter((c) => c.status === 'DRAFT').map((c) => c.id));
    expect(enrollments.some((e) => drafts.has(e.courseId))).toBe(false);
    expect(new Set(enrollments.map((e) => `${e.userId}:${e.courseId}`)).size).toBe(enrollments.length);
  });

  it('is deterministic, and course i is the same course at every scale', () => {
    expect(JSON.stringify(planCoursesSeed(1))).toBe(JSON.stringify(plan));
    const bigger = planCoursesSeed(10);
    expect(bigger.courses.length).toBe(coursesSeedSize(10).courses);
    expect(bigger.courses.slice(0, 5).map((c) => c.slug)).toEqual(courses.slice(0, 5).map((c) => c.slug));
    expect(bigger.enrollments.length).toBeGreaterThan(10 * 500);
    expect(new Set(bigger.courses.map((c) => c.slug)).size).toBe(bigger.courses.length);
  });
});
