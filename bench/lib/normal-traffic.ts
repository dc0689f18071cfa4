/**
 * The normal traffic of the edge benchmark: what a person browsing the catalog makes the router
 * do, at a steady modest rate. Workers each alternate the README's catalog query and GET /health,
 * paced to a fixed total rate; a worker whose request is slow sends its next one as soon as the
 * answer arrives (no catching up), so a stalled router shows as slow and timed-out requests, and
 * as fewer requests sent, rather than as a burst afterwards.
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { now } from './clock.ts';
import { send } from './http-request.ts';

/**
 * The catalog query of README.md ("Browse, learn and buy"), read from the README itself so that
 * the benchmark sends exactly the document a safelist of the README's operations holds, and
 * follows the README when it changes.
 */
export const CATALOG_QUERY = readCatalogQuery();

function readCatalogQuery(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const found = /^query Catalog \{$[\s\S]*?^\}$/m.exec(readme);
  if (!found) throw new Error('README.md has no "query Catalog { … }" block at the start of a line: update bench/lib/normal-traffic.ts');
  return found[0];
}

export type NormalKind = 'catalog' | 'health';

export interface NormalSample {
  kind: NormalKind;
  ms: number;
  /** http-request.ts's outcome label: "ok", "timeout", an error code… */
  label: string;
}

export interface NormalTrafficOptions {
  graphqlUrl: string;
  healthUrl: string;
  agent: Agent;
  workers: number;
  /** Requests per second, all workers together. */
  ratePerSecond: number;
  timeoutMs: number;
}

export interface NormalTraffic {
  /** Stops sending; resolves with every sample once the requests in flight have ended. */
  stop(): Promise<NormalSample[]>;
}

export function startNormalTraffic(o: NormalTrafficOptions): NormalTraffic {
  const samples: NormalSample[] = [];
  let stopped = false;
  const intervalMs = (1000 * o.workers) / o.ratePerSecond;

  async function worker(index: number): Promise<void> {
    // Staggered so the workers' requests are spread over the interval, not sent together.
    await sleep((intervalMs * index) / o.workers);
    for (let n = index; !stopped; n++) {
      const startedAt = now();
      const kind: NormalKind = n % 2 === 0 ? 'catalog' : 'health';
      const outcome =
        kind === 'catalog'
          ? await send({ method: 'POST', url: o.graphqlUrl, body: { query: CATALOG_QUERY, operationName: 'Catalog' }, agent: o.agent, timeoutMs: o.timeoutMs })
          : await send({ method: 'GET', url: o.healthUrl, agent: o.agent, timeoutMs: o.timeoutMs });
      samples.push({ kind, ms: outcome.ms, label: outcome.label });
      const wait = startedAt + intervalMs - now();
      if (wait > 0 && !stopped) await sleep(wait);
    }
  }

  const running = Promise.all(Array.from({ length: o.workers }, (_, i) => worker(i)));
  return {
    async stop() {
      stopped = true;
      await running;
      return samples;
    },
  };
}
