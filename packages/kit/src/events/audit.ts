/**
 * The payload of an `AuditRecorded` event (contracts.ts), built in one place for every service that
 * writes one, so the audit log users keeps (docs/privacy.md) reads the same whichever service acted.
 * Each service writes it to its own outbox in the action's transaction (its `src/outbox.ts`,
 * `recordAudit`), so no action commits without its entry and no rolled-back action leaves one.
 */
import { currentRequestId } from '../core/request-scope.ts';
import type { EventPayloadInput } from './contracts.ts';

export type AuditRecordInput = EventPayloadInput<'AuditRecorded'>;
export type AuditService = AuditRecordInput['service'];

/** Small facts about an action: ids, amounts, roles. Never secrets, never personal data beyond ids. */
export type AuditDetails = Record<string, string | number | boolean | null>;

/** The contract's bound on `requestId` (contracts.ts); the router's ids are far shorter. */
const MAX_REQUEST_ID = 200;

/**
 * What `actor` (null: the platform itself, e.g. a webhook or a scheduled job) did to `targetId`.
 * The request id is the one the server is serving (packages/kit/src/core/request-scope.ts), the
 * same the request's context and log lines carry; null outside a request (an event handler).
 */
export function auditRecord(
  service: AuditService,
  actor: { id: string } | null,
  action: string,
  targetId: string | null,
  details?: AuditDetails,
): AuditRecordInput {
  const requestId = currentRequestId();
  return {
    at: new Date().toISOString(),
    service,
    actorId: actor?.id ?? null,
    action,
    targetId,
    requestId: requestId ? requestId.slice(0, MAX_REQUEST_ID) : null,
    ...(details ? { details } : {}),
  };
}
