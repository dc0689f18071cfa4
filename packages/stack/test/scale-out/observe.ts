/**
 * What the scale-out suite reads besides GraphQL answers: a process's own counters (GET /metrics,
 * docs/observability.md), the services' databases (table names are Prisma's, from each subgraph's
 * prisma/schema.prisma) and the event streams on Redis (packages/kit/src/events/redis-bus.ts), read
 * directly so that no service can hide a double or a loss behind its answer.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The sum of a series' samples at `baseUrl`/metrics whose labels include every one of `labels`
 * (0 when none matches yet: counters appear on first use).
 */
export async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(new URL('/metrics', baseUrl), { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics: ${res.status}`);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.indexOf('}')) : '';
    if (wanted.every((w) => labelText.split(',').includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** One query on a connection of its own. */
export async function sql<T extends Record<string, unknown> = Record<string, any>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** How many times each event id appears on the stream of `type` under `prefix` (REDIS_EVENTS_PREFIX). */
export async function streamEventIds(redisUrl: string, prefix: string, type: string): Promise<Map<string, number>> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    const entries = await redis.xrange(`${prefix}${type}`, '-', '+');
    const seen = new Map<string, number>();
    for (const [, fields] of entries) {
      // Fields alternate name, value; the bus writes one field, `event`, the event as JSON.
      const at = fields.indexOf('event');
      const event = JSON.parse(fields[at + 1]!) as { id: string };
      seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
    }
    return seen;
  } finally {
    redis.disconnect();
  }
}

/** The consumers of `group` on the stream of `type` (their names end in `-<pid>-<random>`). */
export async function streamConsumers(redisUrl: string, prefix: string, type: string, group: string): Promise<string[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    const rows = (await redis.xinfo('CONSUMERS', `${prefix}${type}`, group)) as unknown[][];
    return rows.map((row) => String(row[row.indexOf('name') + 1]));
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key starting with `prefix`: what a run left on a Redis other runs share. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
