/**
 * Entry point of the subscriber process (forked by subscribers.ts). Each subscriber has its own
 * WebSocket, as each browser tab would, to the router or, signed as the router signs its own
 * upgrades, straight to the owning subgraph.
 */
import { createRequestSigner } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import { connectWs, signedUpgradeHeaders, type Subscription, type WsConnection } from '@campus/test-kit';
import { now } from './clock.ts';
import type { Arrivals, OpenRequest, Request } from './subscribers.ts';

// Batches, so 1,000 upgrades do not all hit the server's accept queue at once.
const CONNECT_BATCH = 100;

let connections: WsConnection[] = [];
let subs: Subscription[] = [];
const armed = new Map<number, Promise<Arrivals>>();

async function open(r: OpenRequest): Promise<void> {
  const as = r.sign && { signer: createRequestSigner(ROUTER_ISSUER, [r.sign.routerKey]), audience: r.sign.audience };
  const headers = as ? { headers: signedUpgradeHeaders(r.url, as, r.token) } : {};
  for (let i = 0; i < r.count; i += CONNECT_BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(CONNECT_BATCH, r.count - i) }, () => connectWs(r.url, { token: r.token, ...headers })),
    );
    connections.push(...batch);
    subs.push(...batch.map((c) => c.subscribe(r.query, r.variables)));
  }
}

/** Timed where each result lands (nth resolves on receipt), not when the parent asks for them. */
function arm(event: number, timeoutMs: number): void {
  const arrivals = Promise.all(subs.map((s) => s.nth(event, timeoutMs).then((r) => ({ at: now(), error: !!r.errors })))).then(
    (all) => ({ at: all.map((a) => a.at), errors: all.filter((a) => a.error).length }),
  );
  // A timeout is reported by `collect`; until then it must not count as unhandled and end the process.
  arrivals.catch(() => {});
  armed.set(event, arrivals);
}

async function close(events: number): Promise<boolean> {
  const exact = subs.every((s) => s.results.length === events);
  await Promise.all(connections.map((c) => c.close()));
  connections = [];
  subs = [];
  armed.clear();
  return exact;
}

async function handle(r: Request): Promise<unknown> {
  switch (r.type) {
    case 'open':
      return open(r.open);
    case 'arm':
      return arm(r.event, r.timeoutMs);
    case 'collect': {
      const arrivals = armed.get(r.event);
      if (!arrivals) throw new Error(`event ${r.event} was not armed`);
      return arrivals;
    }
    case 'close':
      return close(r.events);
  }
}

process.on('message', async (m: Request & { id: number }) => {
  try {
    process.send!({ id: m.id, value: await handle(m) });
  } catch (e) {
    process.send!({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
// The benchmark ended (or died): nothing left to measure.
process.on('disconnect', () => process.exit(0));
