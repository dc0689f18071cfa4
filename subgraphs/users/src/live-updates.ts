/**
 * The users service's live updates, session events (`Subscription.mySessionEvents`): when a user's role changes or a session of
 * theirs ends, every client they have open learns it at once instead of at its next failed
 * refresh. One topic per user, so a subscriber only ever hears about their own account.
 *
 * Published after the change is committed; pub/sub is best effort (a missed event costs a client
 * nothing but the early warning: its next refresh fails anyway).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@campus/kit/core';
import type { Role, SessionEndReason } from '@campus/kit/identity';
import { bestEffortPublisher, type LiveUpdateCounts, type PubSub } from '@campus/kit/events';

/** The reasons a session ends are the kit's (packages/kit/src/identity/session-revocation.ts): verifiers name them too. */
export type SessionEventReason = SessionEndReason;

/** What travels on the topic (JSON). */
export interface SessionEventMessage {
  id: string;
  userId: string;
  reason: SessionEventReason;
  occurredAt: string;
  /** The one session that ended; absent when all of the user's sessions (but `keptSessionId`) did. */
  endedSessionId?: string;
  /** The session that survived (the one that changed the password). */
  keptSessionId?: string;
  role?: Role;
}

export const sessionEventsTopic = (userId: string) => `users:session-events:${userId}`;

/** The root value graphql-js hands the `mySessionEvents` field (its default resolver reads it). */
export interface SessionEventRoot {
  mySessionEvents: SessionEventMessage;
}

/** True when the session `sessionId` is among those the event ended. */
export function endsSession(event: SessionEventMessage, sessionId: string): boolean {
  if (event.endedSessionId) return event.endedSessionId === sessionId;
  return event.keptSessionId !== sessionId;
}

export type SessionEventInput = Omit<SessionEventMessage, 'id' | 'occurredAt'>;

export interface LiveUpdates {
  sessionEvent(event: SessionEventInput): Promise<void>;
}

/** `counts`: where the service counts how its publishes ended (campus_live_updates_published_total). */
export function liveUpdates(pubsub: PubSub, logger: Logger, counts?: LiveUpdateCounts): LiveUpdates {
  const publish = bestEffortPublisher(pubsub, logger, { counts });
  return {
    async sessionEvent(input) {
      const event: SessionEventMessage = { id: randomUUID(), occurredAt: new Date().toISOString(), ...input };
      const root: SessionEventRoot = { mySessionEvents: event };
      await publish(sessionEventsTopic(event.userId), root, { reason: event.reason, userId: event.userId });
    },
  };
}
