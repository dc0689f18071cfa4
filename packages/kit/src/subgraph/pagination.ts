/**
 * Relay connections (docs/decisions.md): `first`/`after`, `pageInfo`, `totalCount`, and a
 * maximum page size so one request cannot ask for a whole table. Cursors are opaque offsets.
 */
import { badUserInput } from '../core/errors.ts';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page {
  skip: number;
  take: number;
}

const encodeCursor = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('after', 'after: not a cursor this API returned. Pass pageInfo.endCursor from the previous page.');
  return Number(match[1]) + 1;
}

export function toPage({ first, after }: PageArgs): Page {
  const take = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(take) || take < 0 || take > MAX_PAGE_SIZE) {
    throw badUserInput('first', `first: must be between 0 and ${MAX_PAGE_SIZE}.`);
  }
  return { skip: after ? decodeCursor(after) : 0, take };
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** A function, so the count query runs only when a client selects totalCount. */
  totalCount: () => Promise<number> | number;
}

/**
 * `rows` must be fetched with `take: page.take + 1`: the extra row tells whether a next page exists
 * without a second query.
 */
export function toConnection<T>(rows: T[], page: Page, totalCount: () => Promise<number> | number): Connection<T> {
  const nodes = rows.slice(0, page.take);
  const edges = nodes.map((node, i) => ({ cursor: encodeCursor(page.skip + i), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.take,
      hasPreviousPage: page.skip > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}
