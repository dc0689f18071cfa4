// The one door from the router into Apollo Federation's internals: everything the router takes
// from @apollo/federation-internals, @apollo/query-planner, @apollo/composition, and the gateway's
// lower-level exports (executeQueryPlan, buildOperationContext) comes through this file.
//
// Why one file: these packages are not the gateway's public API. The router plans on its own
// threads and executes plans with the gateway's executor (executor.ts, supergraph-state.ts,
// subscriptions/execute-event.ts), so it must use exactly the versions the installed
// @apollo/gateway was built against. router/package.json pins them to those exact versions and
// router/test/federation-versions.test.ts fails when the installed ones differ from what
// node_modules/@apollo/gateway/package.json asks for, or when a router file imports these
// packages anywhere but here. An upgrade is: bump @apollo/gateway, pin these to its new
// dependency versions, run that test, then fix whatever this file's exports no longer match.
//
// Plain JavaScript (types as JSDoc typedefs) because planner-worker.mjs imports it too, and the
// worker must run under tsx, vitest and the compiled build with no loader in between.
import { createRequire } from 'node:module';

export { Supergraph, operationFromDocument } from '@apollo/federation-internals';
export { QueryPlanner } from '@apollo/query-planner';

// Loaded on first use, not with this file: the planner threads import it too and need neither
// the gateway nor composition, and a thread replaced after a planning timeout (planner-pool.ts)
// would otherwise load both again while the router waits for it. Both packages are CommonJS, so
// require shares the instances the router's own imports of them get.
const require = createRequire(import.meta.url);

/** @type {typeof import('@apollo/gateway').executeQueryPlan} */
export const executeQueryPlan = (...args) => require('@apollo/gateway').executeQueryPlan(...args);
/** @type {typeof import('@apollo/gateway').buildOperationContext} */
export const buildOperationContext = (...args) => require('@apollo/gateway').buildOperationContext(...args);
/** @type {typeof import('@apollo/composition').composeServices} */
export const composeServices = (...args) => require('@apollo/composition').composeServices(...args);

/** @typedef {import('@apollo/federation-internals').Schema} Schema */
/** @typedef {import('@apollo/query-planner').QueryPlan} QueryPlan */
/** @typedef {import('@apollo/query-planner').SubscriptionNode} SubscriptionNode */
/** @typedef {import('@apollo/gateway').ServiceMap} ServiceMap */
/** @typedef {ReturnType<typeof import('@apollo/gateway').buildOperationContext>} OperationContext */

/** The packages this file stands for, pinned in router/package.json to the gateway's own dependency versions. */
export const FEDERATION_PACKAGES = ['@apollo/federation-internals', '@apollo/query-planner', '@apollo/composition'];
