import { describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE, toConnection, toPage } from '../src/subgraph/pagination.ts';

describe('Relay pagination', () => {
  it('walks a list page by page with the cursors it returns', () => {
    const all = Array.from({ length: 7 }, (_, i) => i);
    const seen: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page = toPage({ first: 3, after });
      const conn = toConnection(all.slice(page.skip, page.skip + page.take + 1), page, () => all.length);
      seen.push(...conn.edges.map((e) => e.node));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
  });

  it('refuses page sizes above the maximum with BAD_USER_INPUT on first', () => {
    expect(() => toPage({ first: MAX_PAGE_SIZE + 1 })).toThrowError(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } }));
    expect(() => toPage({ first: -1 })).toThrow();
  });

  it('refuses cursors it did not issue', () => {
    expect(() => toPage({ after: 'not-a-cursor' })).toThrowError(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
  });
});
