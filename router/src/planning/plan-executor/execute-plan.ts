/**
 * The router's own execution of the gateway's query plans (docs/performance.md, "Our own plan
 * execution"): the same answers as the gateway's `executeQueryPlan` — data, errors, their paths and
 * extensions, null propagation — for a fraction of its CPU and garbage.
 *
 * Per plan, once (the planner pool caches plans per operation, so per operation): whether our
 * executor can run it at all (plan-support.ts), the operation as the gateway models it, and its
 * response shaping compiled (response-shape.ts). The gateway rebuilds that operation from the
 * document for every request; here it is built with the plan and kept beside it.
 *
 * Per request: the plan's fetches (run-plan.ts, fetch-node.ts) into one data tree, then the
 * shaping, inside the gateway's own spans (gateway.execute, gateway.postprocessing) while tracing
 * is on. A request that asks for a usage-reporting trace, and every plan we do not cover, runs on
 * the gateway's executor instead.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { tracingOn } from '@campus/kit/core';
import { GraphQLError, Kind, type GraphQLSchema } from 'graphql';
import type { RouterContext } from '../../context.ts';
import { computeResponse, executeQueryPlan, gatewayTracer, operationFromDocument, type FetchNode, type Operation, type OperationContext, type PlanNode, type QueryPlan, type Schema } from '../federation-adapter.mjs';
import { unsupportedByOwnExecutor } from './plan-support.ts';
import { compileShape, hasIntrospection, INHERITED_NAMES, shapeResponse, ShapeNotCovered, type CompiledShape } from './response-shape.ts';
import { plainRepresentations, TypeConditions } from './representations.ts';
import { executeNode, SPAN_STATUS_ERROR, type PlanRun } from './run-plan.ts';

/** Which executor runs plans (ROUTER_PLAN_EXECUTOR, config.ts). */
export type PlanExecutorKind = 'own' | 'gateway';

export interface PlanExecution {
  plan: QueryPlan;
  operationContext: OperationContext;
  serviceMap: Readonly<Record<string, GraphQLDataSource<RouterContext>>>;
  requestContext: GatewayGraphQLRequestContext<RouterContext>;
  supergraphSchema: GraphQLSchema;
  apiSchema: Schema;
}

interface CompiledPlan {
  operation: Operation;
  shape: CompiledShape;
  types: TypeConditions;
  plainRepresentations: boolean;
}

/** Per plan: what our executor needs, or the reason the gateway's runs it. */
const compiledPlans = new WeakMap<QueryPlan, CompiledPlan | { gateway: string }>();
/** isObjectOfType answers per supergraph schema, shared by its plans. */
const typeConditions = new WeakMap<GraphQLSchema, TypeConditions>();

export function executePlan(kind: PlanExecutorKind, execution: PlanExecution): Promise<GatewayExecutionResult> {
  const compiled = kind === 'own' ? compiledFor(execution) : undefined;
  // A usage-reporting trace is the gateway's to build (the router sends none; kept for completeness).
  if (!compiled || 'gateway' in compiled || execution.requestContext.metrics?.captureTraces) return gatewayExecution(execution);
  return ownExecution(compiled, execution);
}

/** Why the gateway's executor runs this plan (undefined: ours does); for tests and the docs' claims. */
export function planFallbackReason(execution: PlanExecution): string | undefined {
  const compiled = compiledFor(execution);
  return 'gateway' in compiled ? compiled.gateway : undefined;
}

function gatewayExecution(e: PlanExecution): Promise<GatewayExecutionResult> {
  return executeQueryPlan(e.plan, e.serviceMap, e.requestContext, e.operationContext, e.supergraphSchema, e.apiSchema);
}

function compiledFor(execution: PlanExecution): CompiledPlan | { gateway: string } {
  let compiled = compiledPlans.get(execution.plan);
  if (!compiled) {
    compiled = compile(execution);
    compiledPlans.set(execution.plan, compiled);
  }
  return compiled;
}

function compile({ plan, operationContext, apiSchema, supergraphSchema }: PlanExecution): CompiledPlan | { gateway: string } {
  const unsupported = unsupportedByOwnExecutor(plan);
  if (unsupported) return { gateway: unsupported };
  let operation: Operation;
  try {
    // Exactly the gateway's call (executeQueryPlan.js), made once per plan instead of per request.
    operation = operationFromDocument(
      apiSchema,
      { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] },
      { validate: false },
    );
  } catch {
    // The gateway answers this operation with the error, per request: leave that to it.
    return { gateway: 'an operation the gateway cannot model' };
  }
  if (hasIntrospection(operation.selectionSet)) return { gateway: 'introspection fields' };
  let shape: CompiledShape;
  try {
    shape = compileShape(operation);
  } catch (error) {
    // A shape this code did not foresee: the gateway's executor still answers it.
    return { gateway: `a response shape not compiled (${(error as Error).message})` };
  }
  let types = typeConditions.get(supergraphSchema);
  if (!types) {
    types = new TypeConditions(supergraphSchema);
    typeConditions.set(supergraphSchema, types);
  }
  const plain = fetchesOf(plan.node as PlanNode | undefined).every((f) => !f.requires || plainRepresentations(f.requires, INHERITED_NAMES));
  return { operation, shape, types, plainRepresentations: plain };
}

function fetchesOf(node: PlanNode | undefined): FetchNode[] {
  if (!node) return [];
  switch (node.kind) {
    case 'Fetch':
      return [node];
    case 'Flatten':
      return fetchesOf(node.node);
    case 'Sequence':
    case 'Parallel':
      return node.nodes.flatMap(fetchesOf);
    case 'Condition':
      return [...fetchesOf(node.ifClause), ...fetchesOf(node.elseClause)];
    default:
      return [];
  }
}

type Traced = <T>(name: string, fn: (span: SpanLike | undefined) => Promise<T> | T) => Promise<T>;
interface SpanLike {
  setStatus(status: { code: number }): unknown;
  end(): void;
}

/** The gateway's spans around execution and post-processing; while tracing is off, none at all. */
const inSpan: Traced = async (name, fn) => {
  if (!tracingOn()) return fn(undefined);
  return gatewayTracer().startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SPAN_STATUS_ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
};

async function ownExecution(compiled: CompiledPlan, execution: PlanExecution): Promise<GatewayExecutionResult> {
  const { requestContext } = execution;
  return inSpan('gateway.execute', async (executeSpan) => {
    const run: PlanRun = {
      serviceMap: execution.serviceMap,
      requestContext,
      types: compiled.types,
      plainRepresentations: compiled.plainRepresentations,
      errors: [],
      operation: compiled.operation,
      tracing: tracingOn(),
    };
    const unfilteredData = Object.create(null) as Record<string, unknown>;
    const node = execution.plan.node;
    if (node) await executeNode(run, node as Parameters<typeof executeNode>[1], { path: [], data: unfilteredData, fullResult: unfilteredData });
    const result = await inSpan('gateway.postprocessing', (span) => postProcess(compiled, run, unfilteredData, span));
    if (result.errors) executeSpan?.setStatus({ code: SPAN_STATUS_ERROR });
    return result;
  });
}

/** The gateway's post-processing step, result for result (executeQueryPlan.js). */
function postProcess(compiled: CompiledPlan, run: PlanRun, unfilteredData: Record<string, unknown>, span: SpanLike | undefined): GatewayExecutionResult {
  const errors = run.errors as GraphQLError[];
  let data: Record<string, unknown> | null | undefined;
  try {
    const variables = run.requestContext.request.variables;
    let shaped: { data: Record<string, unknown> | null | undefined; errors: GraphQLError[] };
    try {
      shaped = shapeResponse(compiled.shape, variables, unfilteredData);
    } catch (error) {
      if (!(error instanceof ShapeNotCovered)) throw error;
      // Data the compiled shape does not cover: the gateway's own shaping decides (and fails) as it always does.
      shaped = computeResponse({
        operation: compiled.operation,
        variables,
        input: unfilteredData,
        introspectionHandling: () => {
          throw new Error('Introspection fields run on the gateway executor (plan-support.ts).');
        },
      });
    }
    data = shaped.data;
    if (errors.length === 0 && shaped.errors.length > 0) {
      span?.setStatus({ code: SPAN_STATUS_ERROR });
      return { extensions: { valueCompletion: shaped.errors }, data };
    }
  } catch (error) {
    span?.setStatus({ code: SPAN_STATUS_ERROR });
    if (error instanceof GraphQLError) return { errors: [error] };
    if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
    run.requestContext.logger.error('Unexpected error during query plan execution: ' + String(error));
    return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
  }
  return errors.length === 0 ? { data } : { errors, data };
}
