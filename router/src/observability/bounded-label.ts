/**
 * A label whose values come from clients (operation names) or from other services (error codes)
 * must not grow without bound: every distinct value is a series Prometheus keeps in memory for
 * as long as it is scraped, and a client naming each request differently would create millions.
 *
 * The first `max` distinct values seen are kept as they are, later ones count as `other`. That
 * keeps the names a dashboard cares about (the app's operations, seen within minutes of a start)
 * without a list to maintain. Only values the caller `claim`s take a slot: operation names are
 * claimed only once the operation validated against the schema, so a flood of garbage refused at
 * the edge cannot use up the slots before the real operations arrive; it is labelled with a name
 * already known, or `other`.
 */
export const OTHER = 'other';

/** Longer values count as `other` too: a label is for reading on a dashboard, not for storing text. */
const MAX_LENGTH = 100;

export interface BoundedLabel {
  /** `value` as a label: itself when it has a slot (claiming a free one if `claim`), else `other`. */
  of(value: string, claim?: boolean): string;
}

export function boundedLabel(max: number): BoundedLabel {
  const known = new Set<string>();
  return {
    of(value, claim = true) {
      if (known.has(value)) return value;
      if (!claim || known.size >= max || value.length > MAX_LENGTH) return OTHER;
      known.add(value);
      return value;
    },
  };
}
