import { unauthenticated } from '@campus/kit/core';
import { listen } from '@campus/kit/events';
import type { SubscriptionResolvers } from '../generated/graphql.ts';
import { dataExportsTopic, sessionEventsTopic, type DataExportRoot, type SessionEventRoot } from '../live-updates.ts';

/**
 * Only `subscribe`, no `resolve`: graphql-shield wraps `subscribe` only when a field has no
 * resolver of its own, and the check must run when the client subscribes, not per event. The
 * default resolver reads the field off each published root value.
 */
export const Subscription: SubscriptionResolvers = {
  mySessionEvents: {
    subscribe: async (_parent, _args, ctx) => {
      if (!ctx.viewer) throw unauthenticated();
      // The topic is the viewer's own: nobody can listen to another account's sessions.
      return listen<SessionEventRoot>(ctx.pubsub, sessionEventsTopic(ctx.viewer.id));
    },
  },
  myDataExports: {
    subscribe: async (_parent, _args, ctx) => {
      if (!ctx.viewer) throw unauthenticated();
      // The viewer's own topic: exports they requested, and exports of their own data.
      return listen<DataExportRoot>(ctx.pubsub, dataExportsTopic(ctx.viewer.id));
    },
  },
};
