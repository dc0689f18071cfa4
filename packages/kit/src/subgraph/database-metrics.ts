/**
 * What a service's database work looks like from outside (docs/observability.md), counted from
 * its statement tap (statement-tap.ts), so every statement Prisma sends is seen, whichever code
 * sent it:
 *
 *   campus_db_queries_total{kind}             counter: statements sent, by kind
 *   campus_db_query_duration_seconds{kind}    histogram: how long the database took to answer them
 *
 * `kind` is select / insert / update / delete / other (statementKind), never the SQL itself.
 */
import { counter, histogram, type MetricsRegistry } from '../core/metrics.ts';
import { statementKind, type StatementTap } from './statement-tap.ts';

/**
 * From 1 ms (an indexed read on a warm pool) to 5 s (past any request's deadline): a slow
 * statement shows in its own bucket instead of disappearing into +Inf.
 */
const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Counts and times every statement of `tap` on `registry`; returns the unsubscribe. */
export function watchStatements(registry: MetricsRegistry, tap: StatementTap): () => void {
  const queries = counter(registry, 'campus_db_queries_total', 'SQL statements the service sent its database, by kind.', ['kind']);
  const duration = histogram(
    registry,
    'campus_db_query_duration_seconds',
    'How long the database took to answer a statement, by kind (Prisma query events).',
    ['kind'],
    DURATION_BUCKETS_SECONDS,
  );
  return tap.onStatement((sql, _params, durationMs) => {
    const kind = statementKind(sql);
    queries.inc({ kind });
    duration.observe({ kind }, durationMs / 1000);
  });
}
