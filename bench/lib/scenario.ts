/**
 * One benchmark scenario: N subscribers of one subscription, each on its own WebSocket to the
 * router, then events raised one after the other; every client's receipt is timed from the
 * moment the subgraph published the event.
 */
import { performance } from 'node:perf_hooks';
import { connectWs, waitUntil, type Subscription, type WsConnection } from '@campus/stack/ws-testing';
import { percentile } from './stats.ts';

export interface Scenario {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  token?: string;
  /** Subscriptions live on the owning subgraph (its graphql-ws hooks). */
  live(): number;
  /** Raises event number `n`; resolves with the time (performance.now()) it was published. */
  raise(n: number): Promise<number>;
}

export interface ScenarioResult {
  deliveries: number;
  complete: boolean;
  latency: { p50: number; p90: number; p99: number; max: number };
  lastClientP50: number;
  memory: { heapPerSub: number; rssPerSub: number; before: NodeJS.MemoryUsage; during: NodeJS.MemoryUsage };
}

const CONNECT_BATCH = 100;

export async function runScenario(
  scenario: Scenario,
  options: { routerUrl: string; subscribers: number; events: number; memory: () => Promise<NodeJS.MemoryUsage> },
): Promise<ScenarioResult> {
  const { routerUrl, subscribers, events } = options;
  const connections: WsConnection[] = [];
  try {
    const before = await options.memory();
    const subs: Subscription[] = [];
    for (let i = 0; i < subscribers; i += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, subscribers - i) }, () => connectWs(routerUrl, { token: scenario.token })),
      );
      connections.push(...batch);
      subs.push(...batch.map((c) => c.subscribe(scenario.query, scenario.variables)));
    }
    await waitUntil(() => scenario.live() === subscribers, `${subscribers} live subscriptions`, 120_000);
    const during = await options.memory();

    const latencies: number[] = [];
    const lastClient: number[] = [];
    for (let e = 0; e < events; e++) {
      const received = new Array<number>(subscribers);
      const arrivals = subs.map((s, i) => s.nth(e, 60_000).then(() => (received[i] = performance.now())));
      const publishedAt = await scenario.raise(e);
      await Promise.all(arrivals);
      for (const t of received) latencies.push(t - publishedAt);
      lastClient.push(Math.max(...received) - publishedAt);
    }
    latencies.sort((a, b) => a - b);
    lastClient.sort((a, b) => a - b);
    return {
      deliveries: latencies.length,
      complete: subs.every((s) => s.results.length === events && s.results.every((r) => !r.errors)),
      latency: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1]!,
      },
      lastClientP50: percentile(lastClient, 50),
      memory: {
        heapPerSub: (during.heapUsed - before.heapUsed) / subscribers,
        rssPerSub: (during.rss - before.rss) / subscribers,
        before,
        during,
      },
    };
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await waitUntil(() => scenario.live() === 0, 'subscriptions to close', 60_000);
  }
}
