/**
 * The catalog query: filters and orders over courses, one SQL statement per page (plus one for
 * totalCount when a client selects it). Written in SQL rather than Prisma's query builder because
 * text search goes through PostgreSQL full-text search on an expression GIN index (see the init
 * migration), which Prisma cannot express. Every other filter and order has a B-tree index.
 */
import { lineText, parseInput } from '@campus/kit/core';
import { toConnection, toPage, type Connection, type PageArgs } from '@campus/kit/subgraph';
import { z } from 'zod';
import { Prisma, type Course, type CourseStatus, type PrismaClient } from './generated/prisma/client.ts';
import { currencyCode, MAX_PRICE_AMOUNT } from './money.ts';

export const COURSE_ORDERS = ['NEWEST', 'TITLE', 'PRICE_LOW_TO_HIGH', 'PRICE_HIGH_TO_LOW', 'POPULARITY'] as const;
export type CourseOrder = (typeof COURSE_ORDERS)[number];

const amount = z.number().int('must be a whole number of minor units').min(0).max(MAX_PRICE_AMOUNT);

export const languageTag = z
  .string()
  .trim()
  .min(2)
  .max(35)
  .transform((tag, ctx) => {
    try {
      return Intl.getCanonicalLocales(tag)[0]!;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag such as en or pt-BR' });
      return z.NEVER;
    }
  });

const filterInput = z
  .object({
    search: lineText(200).nullish(),
    category: z.string().nullish(),
    level: z.string().nullish(),
    language: languageTag.nullish(),
    instructorId: z.uuid('must be a user id').nullish(),
    isFree: z.boolean().nullish(),
    price: z
      .object({ currency: currencyCode, min: amount.nullish(), max: amount.nullish() })
      .refine((p) => p.min == null || p.max == null || p.min <= p.max, { message: 'min must not exceed max', path: ['min'] })
      .nullish(),
    status: z.array(z.enum(['DRAFT', 'PUBLISHED', 'ARCHIVED'])).min(1, 'must name at least one status').nullish(),
  })
  .nullish();

export type CatalogFilter = z.infer<typeof filterInput>;

/**
 * Each word of a search becomes a prefix match ("type scr" finds "TypeScript scripting"). Only
 * letters and digits survive, so nothing a client types can be tsquery syntax.
 */
export function searchQuery(search: string): string | null {
  const words = search
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 10);
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : null;
}

/** The document the search index covers; must stay identical to the index expression. */
const SEARCH_DOCUMENT = Prisma.sql`to_tsvector('simple', c."title" || ' ' || c."description")`;

/**
 * An array parameter of a PostgreSQL enum type. Sent as text[] and cast in SQL: PGlite's driver
 * cannot serialize arrays of a custom type, and the cast keeps the enum column's index usable.
 */
export function enumArray(values: readonly string[], enumType: 'CourseStatus' | 'EnrollmentStatus'): Prisma.Sql {
  return Prisma.sql`CAST(CAST(${[...values]} AS text[]) AS ${Prisma.raw(`"${enumType}"[]`)})`;
}

function whereClause(filter: NonNullable<CatalogFilter> | null | undefined): Prisma.Sql {
  const f = filter ?? {};
  const statuses: CourseStatus[] = f.status ?? ['PUBLISHED'];
  const conditions: Prisma.Sql[] = [Prisma.sql`c."status" = ANY(${enumArray(statuses, 'CourseStatus')})`];
  if (f.search) {
    // A search with no word in it ("%", "_") finds nothing, never everything: it is a filter.
    const query = searchQuery(f.search);
    conditions.push(query ? Prisma.sql`${SEARCH_DOCUMENT} @@ to_tsquery('simple', ${query})` : Prisma.sql`false`);
  }
  if (f.category) conditions.push(Prisma.sql`c."category" = CAST(CAST(${f.category} AS text) AS "CourseCategory")`);
  if (f.level) conditions.push(Prisma.sql`c."level" = CAST(CAST(${f.level} AS text) AS "CourseLevel")`);
  if (f.language) conditions.push(Prisma.sql`c."language" = ${f.language}`);
  if (f.instructorId) conditions.push(Prisma.sql`c."instructorId" = CAST(${f.instructorId} AS uuid)`);
  if (f.isFree === true) conditions.push(Prisma.sql`c."priceAmount" IS NULL`);
  if (f.isFree === false) conditions.push(Prisma.sql`c."priceAmount" IS NOT NULL`);
  if (f.price) {
    conditions.push(Prisma.sql`c."priceCurrency" = ${f.price.currency}`);
    if (f.price.min != null) conditions.push(Prisma.sql`c."priceAmount" >= ${f.price.min}`);
    if (f.price.max != null) conditions.push(Prisma.sql`c."priceAmount" <= ${f.price.max}`);
  }
  return Prisma.join(conditions, ' AND ');
}

/** Every order ends on the id, so equal keys still page deterministically. */
const ORDER_BY: Record<CourseOrder, Prisma.Sql> = {
  NEWEST: Prisma.sql`c."publishedAt" DESC NULLS LAST, c."createdAt" DESC, c."id" DESC`,
  // Case-insensitive byte order: the same on PGlite and on every PostgreSQL collation.
  TITLE: Prisma.sql`lower(c."title") COLLATE "C" ASC, c."id" ASC`,
  // Free (no currency) first; amounts only compare within a currency, so they are grouped by it.
  PRICE_LOW_TO_HIGH: Prisma.sql`c."priceCurrency" ASC NULLS FIRST, c."priceAmount" ASC, c."id" ASC`,
  PRICE_HIGH_TO_LOW: Prisma.sql`c."priceCurrency" ASC NULLS LAST, c."priceAmount" DESC, c."id" ASC`,
  POPULARITY: Prisma.sql`c."enrollmentCount" DESC, c."publishedAt" DESC NULLS LAST, c."id" DESC`,
};

export interface CatalogArgs extends PageArgs {
  filter?: unknown;
  orderBy?: CourseOrder | null;
}

export async function findCourses(prisma: PrismaClient, args: CatalogArgs): Promise<Connection<Course>> {
  const page = toPage(args);
  const where = whereClause(parseInput(filterInput, args.filter, 'filter'));
  const orderBy = ORDER_BY[args.orderBy ?? 'NEWEST'];
  const rows = await prisma.$queryRaw<Course[]>`
    SELECT c.* FROM "Course" c WHERE ${where} ORDER BY ${orderBy} LIMIT ${page.take + 1} OFFSET ${page.skip}`;
  return toConnection(rows, page, async () => {
    const [{ count }] = await prisma.$queryRaw<[{ count: number }]>`SELECT count(*)::int AS count FROM "Course" c WHERE ${where}`;
    return count;
  });
}
