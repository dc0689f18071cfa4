/**
 * Entry point of the attacker process (forked by attackers.ts): fires the hostile requests of
 * hostile-operations.ts continuously, each kind `concurrency` at a time from its own address, from
 * "start" until "stop". In a process of its own so that building and parsing multi-megabyte
 * requests and answers does not delay the benchmark process, which times the normal traffic.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentFor, send, type Outcome } from './http-request.ts';
import { HOSTILE_KINDS } from './hostile-operations.ts';
import { percentile } from './stats.ts';
import type { AttackerRequest, KindReport, StartAttack } from './attackers.ts';

let controller: AbortController | undefined;
// Across phases too: a request repeated in a later phase would hit the router's caches.
let serial = 0;
let running: Promise<KindReport[]> | undefined;

async function fire(kindName: string, start: StartAttack, signal: AbortSignal): Promise<KindReport> {
  const kind = HOSTILE_KINDS.find((k) => k.name === kindName);
  if (!kind) throw new Error(`unknown hostile kind ${kindName}`);
  const agent = agentFor(start.addresses[kind.name]!, kind.concurrency);
  const outcomes: Outcome[] = [];
  let sent = 0;
  let cut = 0;
  const worker = async () => {
    while (!signal.aborted) {
      const outcome = await send({ method: 'POST', url: start.url, body: kind.body(serial++), agent, timeoutMs: start.timeoutMs, signal });
      sent++;
      if (outcome.label === 'aborted') cut++;
      else outcomes.push(outcome);
      // A router that is gone refuses at once: without a pause this loop would only burn the CPU
      // the router and the stack are measured on.
      if (outcome.label.startsWith('connection ')) await sleep(100);
    }
  };
  await Promise.all(Array.from({ length: kind.concurrency }, worker));
  agent.destroy();
  const byLabel = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    if (!byLabel.has(o.label)) byLabel.set(o.label, []);
    byLabel.get(o.label)!.push(o);
  }
  return {
    kind: kind.name,
    sent,
    cut,
    outcomes: [...byLabel].map(([label, all]) => {
      const ms = all.map((o) => o.ms).sort((a, b) => a - b);
      return { label, count: all.length, p50: percentile(ms, 50), max: ms[ms.length - 1]!, maxBytes: Math.max(...all.map((o) => o.bytes)) };
    }),
  };
}

async function handle(r: AttackerRequest): Promise<unknown> {
  switch (r.type) {
    case 'start': {
      if (running) throw new Error('an attack is already running');
      controller = new AbortController();
      const signal = controller.signal;
      // One signal cuts every request in flight: dozens of listeners on it are expected.
      setMaxListeners(0, signal);
      running = Promise.all(r.start.kinds.map((k) => fire(k, r.start, signal)));
      return undefined;
    }
    case 'stop': {
      if (!running) throw new Error('no attack is running');
      controller!.abort();
      const reports = await running;
      running = undefined;
      return reports;
    }
  }
}

process.on('message', async (m: AttackerRequest & { id: number }) => {
  try {
    process.send!({ id: m.id, value: await handle(m) });
  } catch (e) {
    process.send!({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
// The benchmark ended (or died): nothing left to attack.
process.on('disconnect', () => process.exit(0));
