/**
 * Helpers for DataLoader batch functions: one query for all keys, results back in key order with
 * null (or an empty list) where nothing matched — what DataLoader requires.
 */
export function orderByKeys<K, T>(keys: readonly K[], rows: T[], keyOf: (row: T) => K): (T | null)[] {
  const byKey = new Map<K, T>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return keys.map((k) => byKey.get(k) ?? null);
}

export function groupByKeys<K, T>(keys: readonly K[], rows: T[], keyOf: (row: T) => K): T[][] {
  const groups = new Map<K, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id column of ours is a UUID. */
export const isUuid = (id: string) => UUID.test(id);

/**
 * The distinct keys that can be ids. A key that is not a UUID cannot exist, and handing it to
 * PostgreSQL as a uuid would be an error rather than a miss: batch functions query only these.
 */
export const uuidKeys = (ids: readonly string[]) => [...new Set(ids.filter(isUuid))];
