/** What the router knows about a request, and forwards to subgraphs. */
import type { Viewer } from '@campus/kit/identity';

export interface RouterContext {
  viewer: Viewer | null;
  /** The client's "Bearer ..." header, forwarded as is: subgraphs verify it themselves. */
  authorization?: string | undefined;
  requestId?: string | undefined;
  clientIp?: string | undefined;
  /**
   * Set on operations graphql-ws already ran through the edge's admission checks before handing
   * them to Apollo Server, so they are not checked or counted again (edge/admission.ts).
   */
  admitted?: boolean;
  /**
   * What an admission check threw when the fast path (fast-path/fast-path.ts) ran the checks and
   * handed the request to Apollo Server to answer the refusal (with `admitted` set).
   */
  refusal?: unknown;
  /** Demand control's estimate for this operation (edge/cost.ts), reported back on request. */
  cost?: { estimated: number; max: number };
}
