/**
 * A tap on the SQL statements a service sends its database, fed from Prisma's query events. Tests
 * count statements through it (the N+1 checks); operators can log slow ones.
 */
export type StatementListener = (sql: string, params: string) => void;

export interface StatementTap {
  emit(sql: string, params: string): void;
  /** Adds a listener; returns the function that removes it. */
  onStatement(listener: StatementListener): () => void;
}

export function createStatementTap(): StatementTap {
  const listeners = new Set<StatementListener>();
  return {
    emit(sql, params) {
      for (const listener of listeners) listener(sql, params);
    },
    onStatement(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
