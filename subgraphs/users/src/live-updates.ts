/**
 * The users service's live updates, session events (`Subscription.mySessionEvents`): when a user's role changes or a session of
 * theirs ends, every client they have open learns it at once instead of at its next failed
 * refresh. One topic per user, so a subscriber only ever hears about their own account.
 *
 * Data exports (`Subscription.myDataExports`) have a topic of their own per user: an export that
 * became READY is news for the download page, not a session event (those end sessions and close
 * the socket, router/src/subscriptions/session-guard.ts). The message is the export without its
 * document, which the resolver reads only when a subscriber selects it.
 *
 * Published after the change is committed; pub/sub is best effort (a missed event costs a client
 * nothing but the early warning: its next refresh fails anyway).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@campus/kit/core';
import type { Role, SessionEndReason } from '@campus/kit/identity';
import { bestEffortPublisher, type LiveUpdateCounts, type PubSub } from '@campus/kit/events';
import type { DataExport } from './generated/prisma/client.ts';

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

export const dataExportsTopic = (userId: string) => `users:data-exports:${userId}`;

/** The export as published: its row without the document (dates become ISO strings on the way). */
export type DataExportMessage = Omit<DataExport, 'document'>;

/** The root value of `myDataExports` (its default resolver reads it). */
export interface DataExportRoot {
  myDataExports: DataExportMessage;
}

export interface LiveUpdates {
  sessionEvent(event: SessionEventInput): Promise<void>;
  /** Tells `userIds` (the requester, and the user whose data it is) that the export changed. */
  dataExportChanged(exportRow: DataExport, userIds: string[]): Promise<void>;
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
    async dataExportChanged(exportRow, userIds) {
      const { document: _document, ...message } = exportRow;
      const root: DataExportRoot = { myDataExports: message };
      for (const userId of new Set(userIds)) await publish(dataExportsTopic(userId), root, { exportId: exportRow.id, status: exportRow.status });
    },
  };
}
