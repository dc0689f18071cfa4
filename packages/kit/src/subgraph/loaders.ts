/**
 * Helpers for DataLoader batch functions: one query for all keys, results back in key order with
 * null (or an empty list) where nothing matched — what DataLoader requires; and the counting of
 * their batches (below).
 */
import { counter, histogram, type MetricsRegistry } from '../core/metrics.ts';

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

/**
 * DataLoader metrics (docs/observability.md): how many batches each loader ran and how many keys
 * each batch held, on the registry of the service the loaders belong to:
 *
 *   campus_dataloader_batches_total{loader}   counter: batch function calls
 *   campus_dataloader_batch_size{loader}      histogram: keys per batch
 *
 * `loader` is the loader's key in the service's loaders object: a fixed, small set.
 *
 * Loaders are created per request from the service's database client (`createLoaders(prisma)`),
 * and the metrics must not be: the service binds its client to its registry once
 * (`countLoaderBatches`, from subgraph/metrics.ts), and each `createLoaders` looks the binding up
 * (`loaderBatches(prisma)`). Keyed on the client rather than kept in a module variable because one
 * process may run several services (the embedded default, tests), each with its own registry.
 */

export type BatchFn<K, V> = (keys: readonly K[]) => PromiseLike<ArrayLike<V | Error>>;

/** Wraps a batch function so its calls are counted under a loader name. */
export type CountBatches = <K, V>(loader: string, batch: BatchFn<K, V>) => BatchFn<K, V>;

interface BatchMetrics {
  record(loader: string, size: number): void;
}

/** One batch up to a page of 100 keys (MAX_PAGE_SIZE) and beyond, for `_entities` with more. */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

const bindings = new WeakMap<object, BatchMetrics>();

/** Counts the batches of every loader created from `client` on `registry`; once per service. */
export function countLoaderBatches(client: object, registry: MetricsRegistry): void {
  const batches = counter(registry, 'campus_dataloader_batches_total', 'DataLoader batch function calls, by loader.', ['loader']);
  const sizes = histogram(registry, 'campus_dataloader_batch_size', 'Keys per DataLoader batch, by loader.', ['loader'], BATCH_SIZE_BUCKETS);
  bindings.set(client, {
    record(loader, size) {
      batches.inc({ loader });
      sizes.observe({ loader }, size);
    },
  });
}

/**
 * What a service's createLoaders wraps each batch function with:
 * `new DataLoader(counted('userById', async (ids) => ...))`. Unbound clients (a script, a unit
 * test) get the batch function back as it is.
 */
export function loaderBatches(client: object): CountBatches {
  const metrics = bindings.get(client);
  if (!metrics) return (_loader, batch) => batch;
  return (loader, batch) => (keys) => {
    metrics.record(loader, keys.length);
    return batch(keys);
  };
}
