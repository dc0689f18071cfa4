/**
 * One run of one scenario along one path: N subscribers of one subscription field, either through
 * the router or straight to the subgraph that owns the field (the baseline), then events raised
 * one after the other; every receipt is timed from the moment the subgraph published the event.
 */
import { waitFor } from '@campus/test-kit';
import { percentile } from './stats.ts';
import type { Subscribers } from './subscribers.ts';

export interface Scenario {
  name: string;
  /** What clients send the router. */
  query: string;
  /**
   * What the direct subscribers send the owning subgraph: the router's primary fetch for `query`
   * (its query plan), since a subgraph cannot resolve fields that other subgraphs own.
   */
  subgraphQuery: string;
  /** The owning subgraph's GraphQL HTTP URL. */
  subgraphUrl: string;
  /** The owning subgraph's name: the audience of the direct subscribers' signed upgrades. */
  subgraph: string;
  variables?: Record<string, unknown>;
  token?: string;
  /** Subscriptions live on the owning subgraph (its graphql-ws hooks), whichever the path. */
  live(): number;
  /**
   * Upstream subscriptions the router should hold for `subscribers` identical clients: the router
   * shares one per viewer scope (router/src/subscriptions/shared-subscriptions.ts). Default 1.
   */
  upstreamViaRouter?(subscribers: number): number;
  /** Raises one event; resolves with the time (clock.ts) the subgraph published it. */
  raise(): Promise<number>;
}

export type Path = 'direct' | 'router';

export interface RunOptions {
  path: Path;
  subscribers: number;
  events: number;
  clients: Subscribers;
  routerUrl: string;
  /** The router's signing key (PEM): the direct subscribers sign their upgrades with it, as the router signs its own. */
  routerKey: string;
  routerMemory(): Promise<NodeJS.MemoryUsage>;
  /** Client subscriptions the router runs now (its campus_router_subscriptions_active). */
  routerSubscriptions(): Promise<number>;
  /** This process: the subgraphs, without the subscribers. */
  subgraphMemory(): Promise<NodeJS.MemoryUsage>;
}

export interface ScenarioResult {
  path: Path;
  deliveries: number;
  complete: boolean;
  latency: { p50: number; p90: number; p99: number; max: number };
  lastClientP50: number;
  /** Heap retained per open subscription (after a full GC), in bytes. */
  heapPerSub: { router: number; subgraph: number };
  /** Subscriptions the owning subgraph held with every subscriber connected. */
  upstreamSubscriptions: number;
}

export async function runScenario(scenario: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const direct = o.path === 'direct';
  const [routerBefore, subgraphBefore] = [await o.routerMemory(), await o.subgraphMemory()];
  const latencies: number[] = [];
  const lastClient: number[] = [];
  let errors = 0;
  let exact = false;
  let heapPerSub: ScenarioResult['heapPerSub'];
  let upstreamSubscriptions = 0;
  try {
    await o.clients.open({
      url: direct ? scenario.subgraphUrl : o.routerUrl,
      count: o.subscribers,
      query: direct ? scenario.subgraphQuery : scenario.query,
      variables: scenario.variables,
      token: scenario.token,
      sign: direct ? { routerKey: o.routerKey, audience: scenario.subgraph } : undefined,
    });
    if (direct) await waitFor(() => scenario.live() === o.subscribers, `${o.subscribers} live subscriptions`, 120_000);
    else {
      // Shared upstream: every client is live once the router runs all of them and the subgraph has the shared ones.
      const upstream = scenario.upstreamViaRouter?.(o.subscribers) ?? 1;
      await waitFor(
        async () => scenario.live() === upstream && (await o.routerSubscriptions()) === o.subscribers,
        `${o.subscribers} routed subscriptions on ${upstream} upstream`,
        { timeoutMs: 120_000, intervalMs: 100 },
      );
    }
    upstreamSubscriptions = scenario.live();
    const [routerDuring, subgraphDuring] = [await o.routerMemory(), await o.subgraphMemory()];
    heapPerSub = {
      router: (routerDuring.heapUsed - routerBefore.heapUsed) / o.subscribers,
      subgraph: (subgraphDuring.heapUsed - subgraphBefore.heapUsed) / o.subscribers,
    };

    for (let e = 0; e < o.events; e++) {
      await o.clients.arm(e, 60_000);
      const publishedAt = await scenario.raise();
      const arrivals = await o.clients.collect(e);
      errors += arrivals.errors;
      for (const t of arrivals.at) latencies.push(t - publishedAt);
      lastClient.push(Math.max(...arrivals.at) - publishedAt);
    }
  } finally {
    exact = await o.clients.close(o.events);
    // The next run's "before" must not still hold this run's subscriptions.
    await waitFor(() => scenario.live() === 0, 'subscriptions to close', 60_000);
  }
  latencies.sort((a, b) => a - b);
  lastClient.sort((a, b) => a - b);
  return {
    path: o.path,
    deliveries: latencies.length,
    complete: exact && errors === 0 && latencies.length === o.subscribers * o.events,
    latency: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1]!,
    },
    lastClientP50: percentile(lastClient, 50),
    heapPerSub,
    upstreamSubscriptions,
  };
}
