/** What the router knows about a request, and forwards to subgraphs. */
import type { Viewer } from '@campus/kit';

export interface RouterContext {
  viewer: Viewer | null;
  /** The client's "Bearer ..." header, forwarded as is: subgraphs verify it themselves. */
  authorization?: string | undefined;
  requestId?: string | undefined;
  clientIp?: string | undefined;
}
