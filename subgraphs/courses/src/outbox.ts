/**
 * The events courses publishes for other services (docs/payments.md), written to the outbox in
 * the same transaction as the change they announce, so one never exists without the other. The
 * kit's relay publishes them to the event bus. Names and payloads are the kit's event contracts
 * (packages/kit/src/events/contracts.ts).
 *
 * CourseUpdated tells payments (and anyone else) a course's sellable facts changed: title, status,
 * price. It carries the whole current state, not a diff, so a consumer that missed one applies the
 * next and is up to date.
 */
import { currentTraceContext } from '@campus/kit/core';
import { EVENTS, type EventPayloadInput } from '@campus/kit/events';
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
  // The trace of the request that changed the course: the event's consumers link to it.
  await tx.outboxEvent.create({ data: { type: EVENTS.CourseUpdated, payload: courseUpdatedPayload(course), traceContext: currentTraceContext() } });
}
