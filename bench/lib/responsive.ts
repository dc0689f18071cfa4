/**
 * Waits, after an attack phase, until the router answers promptly again, so the next baseline
 * measures the router at rest rather than the tail of the attack (a router without a planning
 * budget keeps planning operations whose clients have gone). Bounded: a router that never
 * recovers is reported as such, and the benchmark moves on.
 */
import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { now } from './clock.ts';
import { send } from './http-request.ts';
import { CATALOG_QUERY } from './normal-traffic.ts';

const PROMPT_MS = 500;
const STREAK = 3;

export async function waitResponsive(o: {
  graphqlUrl: string;
  healthUrl: string;
  agent: Agent;
  capMs: number;
}): Promise<{ ms: number; recovered: boolean }> {
  const start = now();
  let streak = 0;
  // Each probe waits no longer than what is left of the cap, so the cap is kept.
  const deadline = () => Math.max(1, Math.min(5_000, o.capMs - (now() - start)));
  while (now() - start < o.capMs) {
    const health = await send({ method: 'GET', url: o.healthUrl, agent: o.agent, timeoutMs: deadline() });
    const catalog = await send({
      method: 'POST',
      url: o.graphqlUrl,
      body: { query: CATALOG_QUERY, operationName: 'Catalog' },
      agent: o.agent,
      timeoutMs: deadline(),
    });
    const prompt = [health, catalog].every((r) => r.label === 'ok' && r.ms < PROMPT_MS);
    streak = prompt ? streak + 1 : 0;
    if (streak >= STREAK) return { ms: now() - start, recovered: true };
    await sleep(100);
  }
  return { ms: now() - start, recovered: false };
}
