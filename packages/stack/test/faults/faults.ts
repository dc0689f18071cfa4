/**
 * The faults the suite injects, each the way it happens in production: a process killed with
 * SIGKILL (no draining, no goodbye) and started again on its port, Redis lost with everything in it,
 * and PostgreSQL dropping every connection of the services (a failover or a restart does that).
 */
import pg from 'pg';
import type { ProcessName, ProcessStack } from '../../src/process-stack.ts';
import type { OwnRedis } from '@campus/test-kit';

export type FaultKind = 'redis-restarted-empty' | `${ProcessName}-killed` | 'postgres-connections-terminated';

export interface InjectedFault {
  kind: FaultKind;
  /** ms since the run started. */
  at: number;
  /** How long until the thing was back and ready, in ms. */
  downMs: number;
  /** Purchases in flight when it was injected: traffic was flowing. */
  inFlight: number;
  detail?: string;
}

export interface FaultTargets {
  stack: ProcessStack;
  redis: OwnRedis;
  /** PostgreSQL admin URL (a connection outside the services' databases). */
  databaseUrl: string;
}

/** How long a killed thing stays down before it is started again: long enough for traffic to notice. */
const DOWN_MS = 500;

export async function injectFault(kind: FaultKind, { stack, redis, databaseUrl }: FaultTargets): Promise<{ downMs: number; detail?: string }> {
  const started = Date.now();
  if (kind === 'redis-restarted-empty') {
    await redis.kill();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await redis.restart();
    return { downMs: Date.now() - started };
  }
  if (kind === 'postgres-connections-terminated') {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const r = await admin.query(
        'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()',
        [Object.values(stack.databases)],
      );
      return { downMs: Date.now() - started, detail: `${r.rows.filter((row) => row.terminated).length} connections terminated` };
    } finally {
      await admin.end();
    }
  }
  const name = kind.slice(0, -'-killed'.length) as ProcessName;
  await stack.kill(name, 'SIGKILL');
  await new Promise((r) => setTimeout(r, DOWN_MS));
  await stack.restart(name);
  return { downMs: Date.now() - started };
}

/** One of each, in the order the suite injects them. */
export const FAULT_SEQUENCE: FaultKind[] = [
  'redis-restarted-empty',
  'users-killed',
  'courses-killed',
  'payments-killed',
  'router-killed',
  'postgres-connections-terminated',
];
