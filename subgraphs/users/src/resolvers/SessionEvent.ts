import type { SessionEventResolvers } from '../generated/graphql.ts';
import { endsSession } from '../live-updates.ts';

export const SessionEvent: SessionEventResolvers = {
  // Per subscriber: the same event ends one client's session and only informs the others.
  reauthenticate: (event, _args, ctx) => (ctx.viewer ? endsSession(event, ctx.viewer.sessionId) : true),
  sessionId: (event) => event.endedSessionId ?? null,
  role: (event) => event.role ?? null,
};
