/**
 * Pages of many parents in one statement. `User.enrollments` and `User.coursesTaught` are connections
 * on an entity: a router resolving them for N users sends one `_entities` request, and each user
 * needs its own page. `row_number()` over each parent's rows picks every page at once, so N users
 * cost one SQL statement, not N.
 */
import { Prisma } from './generated/prisma/client.ts';

export interface ParentPage {
  skip: number;
  take: number;
}

/** Tables and parent columns this is used with; identifiers never come from clients. */
type Partitioned = { table: 'Enrollment'; parent: 'userId' } | { table: 'Course'; parent: 'instructorId' };

/**
 * Selects, for every id in `parentIds`, the rows of its page plus one (so the caller can tell whether
 * a next page exists), in page order. Rows carry an extra `pageRow` column; use `withoutPageRow`.
 */
export function pagesByParent(
  { table, parent }: Partitioned,
  parentIds: readonly string[],
  where: Prisma.Sql,
  orderBy: Prisma.Sql,
  page: ParentPage,
): Prisma.Sql {
  const t = Prisma.raw(`"${table}"`);
  const p = Prisma.raw(`"${parent}"`);
  return Prisma.sql`
    SELECT * FROM (
      SELECT t.*, row_number() OVER (PARTITION BY t.${p} ORDER BY ${orderBy}) AS "pageRow"
        FROM ${t} t
       WHERE t.${p} = ANY(CAST(${[...parentIds]} AS uuid[])) AND ${where}
    ) paged
    WHERE paged."pageRow" > ${page.skip} AND paged."pageRow" <= ${page.skip + page.take + 1}
    ORDER BY paged.${p}, paged."pageRow"`;
}

export function withoutPageRow<T extends { pageRow: unknown }>(row: T): Omit<T, 'pageRow'> {
  const { pageRow: _dropped, ...rest } = row;
  return rest;
}
