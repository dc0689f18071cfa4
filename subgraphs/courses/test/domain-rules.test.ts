/** The courses service's pure rules: progress, publish checks, prices, slugs, search words, config. */
import { generateServiceKeyPem, publicJwks } from '@campus/kit/identity';
import { describe, expect, it } from 'vitest';
import { publishProblems } from '@campus/courses/authoring';
import { searchQuery } from '@campus/courses/catalog';
import { loadConfig } from '@campus/courses/config';
import { readingSeconds } from '@campus/courses/curriculum';
import type { Course } from '@campus/courses/generated/prisma/client';
import { reviveCourse, type Wire } from '@campus/courses/live-updates';
import type { LessonModel } from '@campus/courses/models';
import { isValidStoredPrice, moneyInput } from '@campus/courses/money';
import { computeProgress } from '@campus/courses/progress';
import { firstFreeSlug, slugify } from '@campus/courses/slugs';

const lesson = (id: string, position: number) => ({ id, position }) as LessonModel;
const course = (overrides: Partial<Course> = {}): Course =>
  ({
    id: 'c',
    title: 'A course',
    description: 'About it',
    priceAmount: null,
    priceCurrency: null,
    publishedAt: null,
    archivedAt: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-02T00:00:00Z'),
    ...overrides,
  }) as Course;

describe('progress', () => {
  const lessons = [lesson('a', 1), lesson('b', 2), lesson('c', 3)];

  it('counts completed lessons and points at the first one not done', () => {
    expect(computeProgress(lessons, new Set(['a', 'c']))).toEqual({ completedLessons: 2, totalLessons: 3, percent: 66, nextLesson: lessons[1] });
  });

  it('says 100 only when every lesson is done, and ignores lessons no longer in the course', () => {
    expect(computeProgress(lessons, new Set(['a', 'b', 'c', 'deleted'])).percent).toBe(100);
    expect(computeProgress(lessons, new Set(['a', 'b', 'deleted'])).percent).toBe(66);
    expect(computeProgress([...lessons, lesson('d', 4)], new Set(['a', 'b', 'c']))).toMatchObject({ percent: 75 });
  });

  it('is 0 with no nextLesson for a course without lessons', () => {
    expect(computeProgress([], new Set())).toEqual({ completedLessons: 0, totalLessons: 0, percent: 0, nextLesson: null });
  });
});

describe('publish checks', () => {
  it('accepts a free or validly priced course with a title, a description and a lesson', () => {
    expect(publishProblems(course(), 1)).toEqual([]);
    expect(publishProblems(course({ priceAmount: 1500, priceCurrency: 'JPY' }), 1)).toEqual([]);
  });

  it('names every missing piece', () => {
    const problems = publishProblems(course({ title: ' ', description: '', priceAmount: 100, priceCurrency: null }), 0);
    expect(problems.map((p) => p.field)).toEqual(['title', 'description', 'lessons', 'price']);
  });
});

describe('prices', () => {
  it('takes whole minor units in an ISO-4217 currency, upper-casing the code', () => {
    expect(moneyInput.parse({ amount: 1999, currency: 'usd' })).toEqual({ amount: 1999, currency: 'USD' });
    expect(moneyInput.parse({ amount: 1500, currency: 'JPY' })).toEqual({ amount: 1500, currency: 'JPY' });
  });

  it.each([
    [{ amount: 19.99, currency: 'USD' }],
    [{ amount: 0, currency: 'USD' }],
    [{ amount: -1, currency: 'USD' }],
    [{ amount: 100, currency: 'ABC' }],
    [{ amount: 100_000_001, currency: 'USD' }],
  ])('refuses %j', (input) => {
    expect(moneyInput.safeParse(input).success).toBe(false);
  });

  it('treats half a stored price as invalid', () => {
    expect(isValidStoredPrice({ priceAmount: null, priceCurrency: null })).toBe(true);
    expect(isValidStoredPrice({ priceAmount: 100, priceCurrency: null })).toBe(false);
    expect(isValidStoredPrice({ priceAmount: null, priceCurrency: 'USD' })).toBe(false);
  });
});

describe('slugs', () => {
  it('drops accents and punctuation, and falls back for titles without Latin letters', () => {
    expect(slugify('Écrire du TypeScript — vite !')).toBe('ecrire-du-typescript-vite');
    expect(slugify('はじめての')).toBe('course');
  });

  it('picks the first free numbered variant', () => {
    expect(firstFreeSlug('go', ['go', 'go-2', 'go-4'])).toBe('go-3');
    expect(firstFreeSlug('go', [])).toBe('go');
  });
});

describe('search words', () => {
  it('turns each word into a prefix match and drops everything that could be query syntax', () => {
    expect(searchQuery('Type SCRIPT')).toBe('type:* & script:*');
    expect(searchQuery("c++ & (rust) | !go:*")).toBe('c:* & rust:* & go:*');
    expect(searchQuery('日本語 Über')).toBe('日本語:* & über:*');
    expect(searchQuery(' !!! ')).toBeNull();
  });
});

describe('reading time', () => {
  it('is 240 words a minute, at least a minute', () => {
    expect(readingSeconds('one two')).toBe(60);
    expect(readingSeconds(Array.from({ length: 600 }, () => 'w').join(' '))).toBe(150);
  });
});

describe('subscription payloads', () => {
  it('survive JSON, as through Redis, with their dates restored', () => {
    const original = course({ publishedAt: new Date('2026-03-04T05:06:07.089Z') });
    const revived = reviveCourse(JSON.parse(JSON.stringify(original)) as Wire<Course>);
    expect(revived).toEqual(original);
    expect(revived.publishedAt).toBeInstanceOf(Date);
  });
});

describe('configuration', () => {
  it('defaults to port 4002 and reports every bad variable at once', () => {
    expect(loadConfig({}).port).toBe(4002);
    expect(() => loadConfig({ COURSES_PORT: 'x', COURSES_DATABASE_URL: 'not a url' })).toThrow(/COURSES_PORT[\s\S]*COURSES_DATABASE_URL|COURSES_DATABASE_URL[\s\S]*COURSES_PORT/);
  });

  it('finds the router and payments public keys by URL by default, or takes the JWKS itself, and refuses anything else', () => {
    expect(loadConfig({}).routerJwks).toBe('http://localhost:4000/.well-known/service-jwks.json');
    expect(loadConfig({}).paymentsJwks).toBe('http://localhost:4003/.well-known/service-jwks.json');
    const jwks = JSON.stringify(publicJwks([generateServiceKeyPem()]));
    expect(loadConfig({ ROUTER_JWKS: jwks }).routerJwks).toBe(jwks);
    expect(() => loadConfig({ ROUTER_JWKS: 'router', PAYMENTS_JWKS: '{"keys":[]}' })).toThrow(/ROUTER_JWKS[\s\S]*PAYMENTS_JWKS/);
    const withPrivatePart = JSON.stringify({ keys: [{ ...JSON.parse(jwks).keys[0], d: 'secret' }] });
    expect(() => loadConfig({ ROUTER_JWKS: withPrivatePart })).toThrow(/ROUTER_JWKS: key 1 is not a public Ed25519 JWK/);
  });
});
