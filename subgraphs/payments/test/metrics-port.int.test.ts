/**
 * PAYMENTS_METRICS_PORT: the registry is served on a port of its own and no longer on the
 * service's port (packages/kit/src/subgraph/metrics.ts); the same series, the service's and the
 * kit's, are there. The listener closes with the service.
 */
import { freePort, waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPayments, type PaymentsHarness } from './harness.ts';

describe('payments metrics on a port of their own', () => {
  let h: PaymentsHarness;
  let metricsUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    h = await startPayments({ env: { PAYMENTS_METRICS_PORT: String(port) } });
  });
  afterAll(() => h?.close());

  it('serves the registry on the metrics port, with what payments and the kit register', async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const series of [
      'campus_outbox_unpublished_events{service="payments"}',
      'campus_outbox_oldest_unpublished_age_seconds{service="payments"}',
      'campus_event_consumer_lag{group="payments",service="payments"}',
      'campus_live_updates_published_total{outcome="ok",service="payments"}',
      'campus_event_dead_letters{service="payments"}',
      'process_cpu_user_seconds_total{service="payments"}',
    ]) {
      expect(text).toContain(series);
    }
  });

  it('no longer answers GET /metrics on the service port, which still serves the rest', async () => {
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${h.baseUrl}/health`)).status).toBe(200);
    // Nothing but /metrics on the metrics port.
    expect((await fetch(metricsUrl.replace(/\/metrics$/, '/graphql'))).status).toBe(404);
  });

  it('closes the metrics port with the service', async () => {
    await h.stop();
    await waitFor(
      () => fetch(metricsUrl).then(
        () => false,
        () => true,
      ),
      'the metrics port to close',
    );
  });
});
