/**
 * A tap on the SQL statements a service sends its database, fed from Prisma's query events. Tests
 * count statements through it (the N+1 checks); the service's metrics count them and time them
 * (database-metrics.ts); operators can log slow ones.
 */
export type StatementListener = (sql: string, params: string, durationMs: number) => void;

export interface StatementTap {
  /** One statement sent, and how long the database took to answer it (Prisma's `e.duration`, ms). */
  emit(sql: string, params: string, durationMs: number): void;
  /** Adds a listener; returns the function that removes it. */
  onStatement(listener: StatementListener): () => void;
}

export function createStatementTap(): StatementTap {
  const listeners = new Set<StatementListener>();
  return {
    emit(sql, params, durationMs) {
      for (const listener of listeners) listener(sql, params, durationMs);
    },
    onStatement(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type StatementKind = 'select' | 'insert' | 'update' | 'delete' | 'other';

/** Leading comments and whitespace, which tools (tracing, Prisma) may put before the verb. */
const PREAMBLE = /^(?:\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/;

/**
 * What a statement does, from its first word: a label with five values, never the statement
 * itself (which would make one series per query shape). Transactions, CTEs and DDL are `other`.
 */
export function statementKind(sql: string): StatementKind {
  const verb = /^[A-Za-z]+/.exec(sql.replace(PREAMBLE, ''))?.[0]?.toLowerCase();
  return verb === 'select' || verb === 'insert' || verb === 'update' || verb === 'delete' ? verb : 'other';
}
