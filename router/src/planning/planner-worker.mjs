// The query planner, on a worker thread (see planner-pool.ts for why). Plain JavaScript so that
// the same file runs under tsx, under vitest and from a compiled build, with no loader in between.
//
// Messages in:  { type: 'supergraph', version, sdl }  builds the planner for that supergraph
//               { type: 'plan', id, version, query, operationName }
// Messages out: { type: 'ready', version } | { id, plan } | { id, error: { message } }
import { parentPort } from 'node:worker_threads';
import { operationFromDocument, QueryPlanner, Supergraph } from './federation-adapter.mjs';
import { parse } from 'graphql';

let current;

parentPort.on('message', (message) => {
  if (message.type === 'supergraph') {
    // The gateway validated this SDL already; validating it again would only cost time.
    const supergraph = Supergraph.build(message.sdl, { validateSupergraph: false });
    current = { version: message.version, api: supergraph.apiSchema(), planner: new QueryPlanner(supergraph) };
    parentPort.postMessage({ type: 'ready', version: message.version });
    return;
  }
  const { id, version, query, operationName } = message;
  try {
    if (!current || current.version !== version) throw new Error(`The planner has supergraph ${current?.version}, not ${version}.`);
    const operation = operationFromDocument(current.api, parse(query), operationName ? { operationName } : {});
    const plan = current.planner.buildQueryPlan(operation);
    // A plan is data (kinds, operation strings, selection paths); JSON is its wire format (it is
    // what Apollo Router read from this same planner) and drops nothing the executor reads.
    parentPort.postMessage({ id, plan: JSON.stringify(plan) });
  } catch (e) {
    parentPort.postMessage({ id, error: { message: e instanceof Error ? e.message : String(e) } });
  }
});
