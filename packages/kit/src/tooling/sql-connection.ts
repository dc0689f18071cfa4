/**
 * The smallest SQL surface the migration runner and seeds need, over either driver.
 *
 * It is bound to ONE connection (one PostgreSQL session) on purpose: migrations use session state
 * (an advisory lock, BEGIN/COMMIT around each script), which a pool would scatter over several
 * connections. Callers check a client out of their pool, wrap it, and release it afterwards.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

export interface SqlConnection {
  /** Runs a script of one or more statements, without parameters (simple query protocol). */
  exec(sql: string): Promise<void>;
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export function fromPgClient(client: pg.Client | pg.PoolClient): SqlConnection {
  return {
    async exec(sql) {
      // No values: node-postgres then uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as T[];
    },
  };
}

/** A PGlite database, or a transaction handed out by `db.transaction()`: both expose query/exec. */
export type PgliteLike = Pick<PGlite, 'query' | 'exec'> | Pick<Transaction, 'query' | 'exec'>;

export function fromPglite(db: PgliteLike): SqlConnection {
  return {
    async exec(sql) {
      await db.exec(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      const result = await db.query<T>(sql, params);
      return result.rows;
    },
  };
}
