import { unauthenticated } from '@campus/kit/core';
import { listen } from '@campus/kit/events';
import type { SubscriptionResolvers } from '../generated/graphql.ts';
import { sessionEventsTopic, type SessionEventRoot } from '../live-updates.ts';

/**
 * Only `subscribe`, no `resolve`: graphql-shield wraps `subscribe` only when a field has no
 * resolver of its own, and the check must run when the client subscribes, not per event. The
 * default resolver reads `mySessionEvents` off each published root value.
 */
export const Subscription: SubscriptionResolvers = {
  mySessionEvents: {
    subscribe: async (_parent, _args, ctx) => {
      if (!ctx.viewer) throw unauthenticated();
      // The topic is the viewer's own: nobody can listen to another account's sessions.
      return listen<SessionEventRoot>(ctx.pubsub, sessionEventsTopic(ctx.viewer.id));
    },
  },
};
