/**
 * What a subgraph's /ready checks (docs/readiness.md): its database, and its Redis when REDIS_URL
 * is configured. The mechanism (timeouts, one evaluation shared by concurrent probes, draining) is
 * the one the router uses too, in core/readiness.ts.
 */
import { createReadiness, type Readiness, type ReadinessCheck } from '../core/readiness.ts';
import { redisCheck } from '../core/redis-check.ts';

/**
 * The client a service queries its database with: its Prisma client, which sends every statement
 * through the service's Database (database.ts: the PostgreSQL pool or PGlite). Probing through it
 * checks the path a request takes.
 */
export interface SqlClient {
  $queryRawUnsafe(query: string): PromiseLike<unknown>;
}

export function databaseCheck(client: SqlClient): ReadinessCheck {
  return {
    name: 'database',
    async run() {
      await client.$queryRawUnsafe('SELECT 1');
    },
  };
}

export function subgraphReadiness(service: string, deps: { database: SqlClient; redisUrl?: string | undefined }): Readiness {
  const checks = [databaseCheck(deps.database)];
  if (deps.redisUrl) checks.push(redisCheck(deps.redisUrl));
  return createReadiness(service, checks);
}
