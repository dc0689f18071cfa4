/**
 * Which plans the router's own executor runs. Decided once per plan (execute-plan.ts caches it):
 * anything the gateway's executor does that ours does not copy sends the whole operation there.
 *
 *   - Defer and Subscription nodes (the gateway refuses both; subscriptions run per event,
 *     subscriptions/execute-event.ts), and any node kind a later planner may add;
 *   - fetches with input, output or context rewrites (interface objects, @fromContext): rare,
 *     and the gateway's rewriting (dataRewrites.js) is subtle enough to keep in one place;
 *   - introspection fields (__schema, __type) in the operation: the gateway answers those from
 *     the API schema itself (executeQueryPlan.js, executeIntrospection).
 */
import type { PlanNode, QueryPlan } from '../federation-adapter.mjs';

/** Why the plan must run on the gateway's executor, or undefined when ours runs it. */
export function unsupportedByOwnExecutor(plan: QueryPlan): string | undefined {
  return plan.node ? unsupportedNode(plan.node as PlanNode) : undefined;
}

function unsupportedNode(node: PlanNode): string | undefined {
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      for (const child of node.nodes) {
        const reason = unsupportedNode(child);
        if (reason) return reason;
      }
      return undefined;
    case 'Flatten':
      return unsupportedNode(node.node);
    case 'Condition':
      return (node.ifClause && unsupportedNode(node.ifClause)) || (node.elseClause && unsupportedNode(node.elseClause)) || undefined;
    case 'Fetch':
      if (node.inputRewrites?.length || node.outputRewrites?.length) return 'a fetch with data rewrites';
      if (node.contextRewrites?.length) return 'a fetch with context rewrites';
      return undefined;
    default:
      return `a ${(node as { kind: string }).kind} node`;
  }
}
