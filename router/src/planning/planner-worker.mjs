// The query planner, on a worker thread (see planner-pool.ts for why). Plain JavaScript so that
// the same file runs under tsx, under vitest and from a compiled build, with no loader in between.
//
// Messages in:  { type: 'prepare', supergraphPath, manifestPath? }  see below
//               { type: 'supergraph', version, sdl }  builds the planner for that supergraph
//               { type: 'plan', id, version, query, operationName }
// Messages out: { type: 'ready', version } | { id, plan } | { id, error: { message } }
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { operationFromDocument, QueryPlanner, Supergraph } from './federation-adapter.mjs';
import { parse } from 'graphql';

let current;
/**
 * A thread started before its router (planner-thread.ts) is told which supergraph file and
 * manifest that router is going to read, and builds their planner and plans meanwhile. They serve
 * the router's own `supergraph` message only when its SDL is that same text; otherwise they go.
 */
let prepared;

function build(sdl) {
  // The gateway validated this SDL already (a prepared one is used only when the gateway's is the
  // same text); validating it again would only cost time.
  const supergraph = Supergraph.build(sdl, { validateSupergraph: false });
  return { sdl, api: supergraph.apiSchema(), planner: new QueryPlanner(supergraph), plans: new Map() };
}

const planKey = (query, operationName) => `${operationName ?? ''}\u0000${query}`;

function plan(state, query, operationName) {
  const operation = operationFromDocument(state.api, parse(query), operationName ? { operationName } : {});
  // A plan is data (kinds, operation strings, selection paths); JSON is its wire format (it is
  // what Apollo Router read from this same planner) and drops nothing the executor reads.
  return JSON.stringify(state.planner.buildQueryPlan(operation));
}

/** The operations warm-plans.ts warms, as they are sent to be planned (body and name); none when unreadable. */
function manifestOperations(path) {
  if (!path) return [];
  try {
    const operations = JSON.parse(readFileSync(path, 'utf8')).operations;
    return Array.isArray(operations) ? operations.filter((op) => typeof op?.body === 'string' && typeof op?.name === 'string') : [];
  } catch {
    return [];
  }
}

parentPort.on('message', (message) => {
  if (message.type === 'prepare') {
    try {
      const next = build(readFileSync(message.supergraphPath, 'utf8'));
      for (const op of manifestOperations(message.manifestPath)) {
        try {
          next.plans.set(planKey(op.body, op.name), plan(next, op.body, op.name));
        } catch {
          // Planned again, and refused with its reason, when the router asks for it.
        }
      }
      prepared = next;
    } catch {
      // No file yet, or not a supergraph: the router's own message decides.
    }
    return;
  }
  if (message.type === 'supergraph') {
    const next = prepared?.sdl === message.sdl ? prepared : build(message.sdl);
    prepared = undefined;
    current = { version: message.version, ...next };
    parentPort.postMessage({ type: 'ready', version: message.version });
    return;
  }
  const { id, version, query, operationName } = message;
  try {
    if (!current || current.version !== version) throw new Error(`The planner has supergraph ${current?.version}, not ${version}.`);
    const key = planKey(query, operationName);
    const ready = current.plans.get(key);
    // Each prepared plan is handed over once: the pool caches it from there.
    if (ready !== undefined) current.plans.delete(key);
    parentPort.postMessage({ id, plan: ready ?? plan(current, query, operationName) });
  } catch (e) {
    parentPort.postMessage({ id, error: { message: e instanceof Error ? e.message : String(e) } });
  }
});
