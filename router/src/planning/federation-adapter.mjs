// The one door from the router into Apollo Federation's internals: everything the router takes
// from @apollo/federation-internals, @apollo/query-planner, @apollo/composition, and the gateway's
// lower-level exports (executeQueryPlan, buildOperationContext, and the pieces of its executor our
// own plan executor must match exactly, plan-executor/) comes through this file.
//
// Why one file: these packages are not the gateway's public API. The router plans on its own
// threads and executes plans with its own executor, which must match the gateway's rule for rule
// (plan-executor/), and with the gateway's (executor.ts, supergraph-state.ts,
// subscriptions/execute-event.ts), so it must use exactly the versions the installed
// @apollo/gateway was built against. router/package.json pins them to those exact versions and
// router/test/federation-versions.test.ts fails when the installed ones differ from what
// node_modules/@apollo/gateway/package.json asks for, or when a router file imports these
// packages anywhere but here. An upgrade is: bump @apollo/gateway, pin these to its new
// dependency versions, run that test, then fix whatever this file's exports no longer match; then
// compare the new gateway's executeQueryPlan.js and resultShaping.js with plan-executor/ and run
// router/test/plan-executor.test.ts, which holds our executor to the gateway's answers.
//
// Plain JavaScript (types as JSDoc typedefs) because planner-worker.mjs imports it too, and the
// worker must run under tsx, vitest and the compiled build with no loader in between.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Required, not imported: both packages are CommonJS, and an ES import of one has Node's lexer read
// every file of its re-export chains to find the names; require reads only what runs. That was a
// third of what a planner thread spends loading them, on the path to /ready
// (docs/performance.md, "The router's start and memory").
const federationInternals = require('@apollo/federation-internals');
const queryPlanner = require('@apollo/query-planner');

/** @type {typeof import('@apollo/federation-internals').Supergraph} */
export const Supergraph = federationInternals.Supergraph;
/** @type {typeof import('@apollo/federation-internals').operationFromDocument} */
export const operationFromDocument = federationInternals.operationFromDocument;
/** @type {typeof import('@apollo/query-planner').QueryPlanner} */
export const QueryPlanner = queryPlanner.QueryPlanner;
// What our own plan executor (plan-executor/) takes from the gateway's: the same error codes, the
// same subtyping and leaf-value rules, the same evaluation of a plan's Condition nodes.
/** @type {typeof import('@apollo/federation-internals').ERRORS} */
export const ERRORS = federationInternals.ERRORS;
/** @type {typeof import('@apollo/federation-internals').errorCodeDef} */
export const errorCodeDef = federationInternals.errorCodeDef;
/** @type {typeof import('@apollo/federation-internals').isSubtype} */
export const isSubtype = federationInternals.isSubtype;
/** @type {typeof import('@apollo/federation-internals').isValidLeafValue} */
export const isValidLeafValue = federationInternals.isValidLeafValue;
/** @type {typeof import('@apollo/federation-internals').Variable} */
export const Variable = federationInternals.Variable;
/** @type {typeof import('@apollo/query-planner').evaluateCondition} */
export const evaluateCondition = queryPlanner.evaluateCondition;

// The gateway and composition load on first use, not with this file: the planner threads import it
// too and need neither, and a thread replaced after a planning timeout (planner-pool.ts) would
// otherwise load both again while the router waits for it. require shares the instances the
// router's own imports of them get.

/** @type {typeof import('@apollo/gateway').executeQueryPlan} */
export const executeQueryPlan = (...args) => require('@apollo/gateway').executeQueryPlan(...args);
/** @type {typeof import('@apollo/gateway').buildOperationContext} */
export const buildOperationContext = (...args) => require('@apollo/gateway').buildOperationContext(...args);
/**
 * The gateway's own result shaping, which plan-executor/response-shape.ts hands a response to when
 * it meets data its compiled shape does not cover (the gateway then fails or answers as it always does).
 * @type {(args: { operation: import('@apollo/federation-internals').Operation, variables: Record<string, unknown> | undefined, input: Record<string, unknown>, introspectionHandling: (selection: unknown) => unknown }) => { data: Record<string, unknown> | null | undefined, errors: import('graphql').GraphQLError[] }}
 */
export const computeResponse = (args) => require('@apollo/gateway/dist/resultShaping').computeResponse(args);
/**
 * The tracer of the gateway's own spans (gateway.execute, gateway.fetch, gateway.postprocessing;
 * docs/observability.md), so that our executor's spans are the very ones the gateway's would be.
 * @returns {import('@opentelemetry/api').Tracer}
 */
export const gatewayTracer = () => require('@apollo/gateway/dist/utilities/opentelemetry').tracer;
/** @type {typeof import('@apollo/composition').composeServices} */
export const composeServices = (...args) => require('@apollo/composition').composeServices(...args);

/** @typedef {import('@apollo/federation-internals').Schema} Schema */
/** @typedef {import('@apollo/federation-internals').Supergraph} FederationSupergraph */
/** @typedef {import('@apollo/query-planner').QueryPlan} QueryPlan */
/** @typedef {import('@apollo/query-planner').SubscriptionNode} SubscriptionNode */
/** @typedef {import('@apollo/gateway').ServiceMap} ServiceMap */
/** @typedef {ReturnType<typeof import('@apollo/gateway').buildOperationContext>} OperationContext */
/** @typedef {import('@apollo/federation-internals').Operation} Operation */
/** @typedef {import('@apollo/federation-internals').SelectionSet} SelectionSet */
/** @typedef {import('@apollo/federation-internals').Type} FederationType */
/** @typedef {import('@apollo/federation-internals').NamedType} FederationNamedType */
/** @typedef {import('@apollo/query-planner').PlanNode} PlanNode */
/** @typedef {import('@apollo/query-planner').FetchNode} FetchNode */
/** @typedef {import('@apollo/query-planner').QueryPlanSelectionNode} QueryPlanSelectionNode */

/** The packages this file stands for, pinned in router/package.json to the gateway's own dependency versions. */
export const FEDERATION_PACKAGES = ['@apollo/federation-internals', '@apollo/query-planner', '@apollo/composition'];
