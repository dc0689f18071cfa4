/**
 * Walking a query plan: the gateway's `executeNode` (node_modules/@apollo/gateway/dist/executeQueryPlan.js)
 * for the nodes plan-support.ts lets through: Sequence in order, Parallel together, Flatten moving
 * to the entities at a path, Condition on a variable, Fetch. Without the usage-reporting trace
 * nodes the gateway builds for every node whether or not anyone asked for a trace.
 */
import { evaluateCondition, gatewayTracer, type FetchNode, type Operation, type PlanNode } from '../federation-adapter.mjs';
import { executeFetch, type FetchRun } from './fetch-node.ts';
import type { Cursor, ResponsePath } from './subgraph-errors.ts';

/** SpanStatusCode.ERROR of @opentelemetry/api, which the router reaches only through the kit and the gateway. */
export const SPAN_STATUS_ERROR = 2;

export interface PlanRun extends FetchRun {
  operation: Operation;
  /** Whether spans are made (the gateway's own: gateway.fetch per fetch). */
  tracing: boolean;
}

export async function executeNode(run: PlanRun, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(run, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(run, child, cursor)));
      return;
    case 'Flatten':
      return executeNode(run, node.node, moveIntoCursor(cursor, node.path as ResponsePath));
    case 'Fetch':
      try {
        await (run.tracing ? tracedFetch(run, node, cursor) : executeFetch(run, node, cursor));
      } catch (error) {
        run.errors.push(error as Error);
      }
      return;
    case 'Condition': {
      const branch = evaluateCondition(node, run.operation.variableDefinitions, run.requestContext.request.variables) ? node.ifClause : node.elseClause;
      if (branch) await executeNode(run, branch, cursor);
      return;
    }
    default:
      // plan-support.ts sends plans with any other node to the gateway's executor.
      throw new Error(`Unexpected ${node.kind} node in a plan for the router's own executor.`);
  }
}

function tracedFetch(run: PlanRun, fetch: FetchNode, cursor: Cursor): Promise<void> {
  return gatewayTracer().startActiveSpan('gateway.fetch', { attributes: { service: fetch.serviceName } }, async (span) => {
    try {
      return await executeFetch(run, fetch, cursor);
    } catch (error) {
      span.setStatus({ code: SPAN_STATUS_ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

function moveIntoCursor(cursor: Cursor, path: ResponsePath): Cursor | undefined {
  const data = flattenResultsAtPath(cursor.data, path, 0);
  return data ? { path: cursor.path.concat(path), data, fullResult: cursor.fullResult } : undefined;
}

/**
 * The values at `path` ('@' crossing a list), flattened into one list; the gateway's
 * flattenResultsAtPath, walked in place and collected into one array instead of an array per level.
 */
function flattenResultsAtPath(value: unknown, path: ResponsePath, from: number): unknown {
  for (; from < path.length; from++) {
    if (value === undefined || value === null) return value;
    const current = path[from];
    if (current === '@') {
      // Not a list where the plan expects one: the gateway's flatMap call fails, and so does this one.
      if (!Array.isArray(value)) return (value as unknown[]).flatMap((element) => flattenResultsAtPath(element, path, from + 1));
      const flattened: unknown[] = [];
      for (const element of value) {
        const found = flattenResultsAtPath(element, path, from + 1);
        // flatMap's rule: a list found below is spread into this one, anything else is one element.
        if (Array.isArray(found)) for (const item of found) flattened.push(item);
        else flattened.push(found);
      }
      return flattened;
    }
    if (typeof current !== 'string') throw new Error(`Unexpected ${typeof current} found in path`);
    if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
    const object = value as Record<string, unknown>;
    value = Object.prototype.hasOwnProperty.call(object, current) ? object[current] : undefined;
  }
  return value;
}
