/**
 * Counters of what the payments service does that an operator should see, per process. The
 * service exposes them (`PaymentsService.stats`), and GET /metrics reads them when scraped:
 *
 *   campus_payments_charged_after_failure_refunds_total   charged after FAILED, refunded automatically
 *   campus_payments_reconciled_total{outcome}              settled by reconciliation, by the provider's answer
 */
import { sampledCounter, type MetricsRegistry } from '@campus/kit/core';

export interface PaymentsStats {
  /** Payments the provider charged after they had FAILED, refunded automatically (src/charged-after-failure.ts). */
  chargedAfterFailureRefunds: number;
  /** Payments settled by reconciliation (src/reconciliation.ts), by outcome. */
  reconciled: { succeeded: number; failed: number; unknown: number };
}

export function createPaymentsStats(): PaymentsStats {
  return { chargedAfterFailureRefunds: 0, reconciled: { succeeded: 0, failed: 0, unknown: 0 } };
}

export function exposePaymentsStats(registry: MetricsRegistry, stats: PaymentsStats): void {
  sampledCounter(
    registry,
    'campus_payments_charged_after_failure_refunds_total',
    'Payments the provider charged after they had failed, refunded automatically.',
    () => stats.chargedAfterFailureRefunds,
  );
  sampledCounter(registry, 'campus_payments_reconciled_total', 'Pending payments settled from the provider\'s answer, by outcome.', () => stats.reconciled, 'outcome');
}
