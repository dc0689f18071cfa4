/**
 * The events courses publishes for other services (docs/payments.md), written to the outbox in
 * the same transaction as the change they announce, so one never exists without the other. The
 * kit's relay publishes them to the event bus. Names and payloads are the kit's event contracts
 * (packages/kit/src/events/contracts.ts).
 *
 * CourseUpdated tells payments (and anyone else) a course's sellable facts changed: title, status,
 * price. It carries the whole current state, not a diff, so a consumer that missed one applies the
 * next and is up to date.
 *
 * AuditRecorded: a privileged action (an admin enrolling someone, changing someone else's course,
 * replaying dead letters), for users' audit log, written in the action's own transaction.
 * DataExportPartReady / AccountErasureStepCompleted: courses' answers in users' export and erasure
 * sagas (data-export.ts, erasure.ts).
 */
import { currentTraceContext } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { auditRecord, EVENTS, type AuditDetails, type EventPayloadInput, type EventType } from '@campus/kit/events';
import type { Course, Prisma } from './generated/prisma/client.ts';
import { priceOf } from './money.ts';

export type CourseUpdatedPayload = EventPayloadInput<'CourseUpdated'>;

export function courseUpdatedPayload(course: Course): CourseUpdatedPayload {
  const price = priceOf(course);
  return {
    courseId: course.id,
    slug: course.slug,
    title: course.title,
    status: course.status,
    instructorId: course.instructorId,
    isFree: price === null,
    price,
    updatedAt: course.updatedAt.toISOString(),
  };
}

export async function recordCourseUpdated(tx: Prisma.TransactionClient, course: Course): Promise<void> {
  await recordEvent(tx, EVENTS.CourseUpdated, courseUpdatedPayload(course));
}

/**
 * An AuditRecorded event: `actor` (null: courses itself) did `action` to `targetId`. The payload
 * is the kit's (packages/kit/src/events/audit.ts), shared with payments.
 */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  actor: { id: string } | null,
  action: string,
  targetId: string | null,
  details?: AuditDetails,
): Promise<void> {
  await recordEvent(tx, EVENTS.AuditRecorded, auditRecord('courses', actor, action, targetId, details));
}

/**
 * A change to someone else's course (an admin's, since permissions.ts lets only the instructor and
 * admins change a course) is audited as `<action>_by_admin`; an instructor's own edits are not
 * privileged and are not.
 */
export async function recordCourseChangeBy(
  tx: Prisma.TransactionClient,
  actor: Viewer,
  course: Pick<Course, 'id' | 'instructorId'>,
  action: string,
  details: AuditDetails = {},
): Promise<void> {
  if (actor.id === course.instructorId) return;
  await recordAudit(tx, actor, `${action}_by_admin`, course.id, { instructorId: course.instructorId, role: actor.role, ...details });
}

/** Any contract event; the trace of the writing transaction goes with it, for its consumers' spans to link to. */
export async function recordEvent<T extends EventType>(tx: Prisma.TransactionClient, type: T, payload: EventPayloadInput<T>): Promise<void> {
  await tx.outboxEvent.create({ data: { type, payload: payload as Prisma.InputJsonValue, traceContext: currentTraceContext() } });
}
