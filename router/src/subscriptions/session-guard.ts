/**
 * Ends a client's graphql-ws connection when the session its access token belongs to ends (logout,
 * role change, password change, refresh-token reuse, an admin's revocation: docs/identity/sessions.md).
 * The socket closes with 4403 (Forbidden), as at token expiry, so a graphql-ws client reconnects
 * with a refreshed token — or, its refresh token having died with the session, logs in again.
 *
 * `mySessionEvents` is how the client learns why, and the two travel separately: the revocation
 * notice reaches the router directly (session-revocation.ts in the kit), the event comes from the
 * users subgraph over pub/sub and the upstream socket. Whichever arrives first, the client must
 * see the event before the close. So from the moment the session ends the connection takes no new
 * operation, and it closes once each of its `mySessionEvents` subscriptions has delivered a result
 * (at once when it has none), and in any case SESSION_EVENT_GRACE_MS after the notice.
 */
import { Kind, getOperationAST, type DocumentNode, type SelectionSetNode } from 'graphql';

/** The users subgraph's subscription that explains why a session ended (subgraphs/users/schema.graphql). */
export const SESSION_EVENTS_FIELD = 'mySessionEvents';

/** Longest wait for the session event before closing anyway; well inside the one-second promise. */
export const SESSION_EVENT_GRACE_MS = 500;

function rootFieldNames(document: DocumentNode, operationName: string | undefined): Set<string> {
  const names = new Set<string>();
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  );
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment);
      }
    }
  };
  const operation = getOperationAST(document, operationName);
  if (operation) walk(operation.selectionSet);
  return names;
}

export class ConnectionSession {
  /** Why the session ended; set from the notice on, when the connection takes no new operation. */
  ended: string | undefined;
  /** Session-event subscriptions, with when each last delivered a result (0: never). */
  private readonly sessionEvents = new Map<string, number>();
  private waitingFor = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly closeSocket: (reason: string) => void,
    private readonly graceMs = SESSION_EVENT_GRACE_MS,
  ) {}

  /** An operation passed onSubscribe; session-event subscriptions are remembered. */
  started(id: string, document: DocumentNode, operationName: string | undefined): void {
    if (rootFieldNames(document, operationName).has(SESSION_EVENTS_FIELD)) this.sessionEvents.set(id, 0);
  }

  /** A result of operation `id` is about to be sent. */
  delivered(id: string): void {
    if (!this.sessionEvents.has(id)) return;
    this.sessionEvents.set(id, Date.now());
    // graphql-ws sends the result right after onNext returns; closing on the next turn puts the
    // close frame behind it.
    if (this.waitingFor.delete(id) && this.waitingFor.size === 0) setImmediate(() => this.close());
  }

  /** Operation `id` completed or failed. */
  finished(id: string): void {
    this.sessionEvents.delete(id);
    if (this.waitingFor.delete(id) && this.waitingFor.size === 0) this.close();
  }

  /** The session ended. */
  end(reason: string): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    // An event delivered just before the notice already told the client.
    const recent = Date.now() - this.graceMs;
    this.waitingFor = new Set([...this.sessionEvents].filter(([, at]) => at < recent).map(([id]) => id));
    if (this.waitingFor.size === 0) return this.close();
    this.timer = setTimeout(() => this.close(), this.graceMs);
    this.timer.unref();
  }

  dispose(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private close(): void {
    if (this.closed) return;
    this.dispose();
    this.closeSocket(`Forbidden: the session ended (${this.ended})`);
  }
}
