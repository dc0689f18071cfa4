/**
 * The events services send each other (docs/service-shape.md): each type's name and the zod schema
 * of its payload, in the one module producer and consumer both import, so neither can drift from
 * the other. Producers write `{ type, payload }` to their outbox typed by `EventPayload<T>`;
 * consumers go through `consumeEvents`, which hands a handler only payloads its schema accepts.
 */
import { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import { inLinkedSpan } from '../core/tracing.ts';
import type { DomainEvent, EventBus } from './event-bus.ts';

/** What payments says about a payment. Consumers rely on the ids; the amount is for other readers. */
const paymentPayload = z.object({
  /** Payments' id of the payment (a UUID today; providers' ids are longer strings). */
  paymentId: z.string().min(1).max(200),
  userId: z.uuid(),
  courseId: z.uuid(),
  /** Minor units, with `currency` (ISO 4217). */
  amount: z.number().int().optional(),
  currency: z.string().optional(),
  /** PaymentRefunded: the refund that returned the money. */
  refundId: z.string().optional(),
});

/**
 * A course's sellable facts after a change: title, status, price. The whole current state, not a
 * diff, so a consumer that missed one applies the next and is up to date.
 */
const courseUpdatedPayload = z.object({
  courseId: z.uuid(),
  slug: z.string(),
  title: z.string(),
  status: z.enum(['DRAFT', 'PUBLISHED', 'ARCHIVED']),
  instructorId: z.uuid(),
  isFree: z.boolean(),
  /** List price in minor units; null when free. */
  price: z.object({ amount: z.number().int(), currency: z.string() }).nullable(),
  updatedAt: z.iso.datetime(),
});

/**
 * Courses' answer to a payment event (docs/delivery.md): what the enrollment of the payment's buyer
 * is now that the event was applied. Payments records it as the acknowledgement of the event named
 * by `acknowledges` and stops re-publishing that event. Sent again for a redelivered event, so an
 * answer lost on the way is answered again.
 */
const enrollmentAnswerPayload = z.object({
  /** The id of the payment event this answers. */
  acknowledges: z.uuid(),
  paymentId: z.string().min(1).max(200),
  userId: z.uuid(),
  courseId: z.uuid(),
  /** The buyer's enrollment in the course, when there is one. */
  enrollmentId: z.uuid().nullable(),
  /** Its status after the event (ACTIVE, COMPLETED, REVOKED ...), null without an enrollment. */
  enrollmentStatus: z.string().nullable(),
});

/** The services that take part in a user's data export and erasure besides users, which runs both. */
const PRIVACY_PARTICIPANTS = z.enum(['courses', 'payments']);

/**
 * A privileged or security-relevant action, for the audit log users keeps (docs/privacy.md). The
 * service that acted writes it to its outbox in the action's own transaction, so no action commits
 * without its entry; users appends it to the hash chain once, keyed by the event's id.
 */
const auditRecordedPayload = z.object({
  /** When the action committed. */
  at: z.iso.datetime(),
  service: z.enum(['users', 'courses', 'payments']),
  /** Who acted; null for the platform itself (a scheduled erasure, a lockout). */
  actorId: z.uuid().nullable(),
  /** What was done, e.g. `payments.refund`, `courses.enrollment.grant`. */
  action: z.string().min(1).max(100),
  /** What it was done to (a user, a payment, an enrollment ...). */
  targetId: z.string().max(200).nullable(),
  /** The request that did it (the router's request id), null outside a request. */
  requestId: z.string().max(200).nullable(),
  /** Small facts about the action (amounts, roles); never secrets, never personal data beyond ids. */
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Users asks every participant for its part of a user's data export. */
const dataExportRequestedPayload = z.object({ exportId: z.uuid(), userId: z.uuid() });

/**
 * A participant's part of an export, answering (and acknowledging) the request named by
 * `acknowledges`. Sent again for a redelivered request; users keeps the first.
 */
const dataExportPartPayload = z.object({
  acknowledges: z.uuid(),
  exportId: z.uuid(),
  userId: z.uuid(),
  service: PRIVACY_PARTICIPANTS,
  /** What the service holds about the user, as JSON. */
  part: z.record(z.string(), z.unknown()),
});

/**
 * Users starts a user's erasure: every participant erases or pseudonymizes what it holds about the
 * user. `pseudonym` replaces the user's personal data where records must stay (payments).
 */
const accountErasureRequestedPayload = z.object({ deletionId: z.uuid(), userId: z.uuid(), pseudonym: z.string().min(1).max(100) });

/** A participant finished its erasure step (idempotent: sent again for a redelivered request). */
const accountErasureStepPayload = z.object({
  acknowledges: z.uuid(),
  deletionId: z.uuid(),
  userId: z.uuid(),
  service: PRIVACY_PARTICIPANTS,
  /** What the step did, as counts (e.g. `{ enrollmentsAnonymized: 2, progressDeleted: 5 }`). */
  summary: z.record(z.string(), z.number().int()),
});

export const EVENT_PAYLOADS = {
  /** A payment went through: courses enrolls the buyer. */
  PaymentSucceeded: paymentPayload,
  /** A payment was refunded: courses revokes the access it granted. */
  PaymentRefunded: paymentPayload,
  /** A course's title, status or price changed. */
  CourseUpdated: courseUpdatedPayload,
  /** Courses applied a PaymentSucceeded: the buyer is enrolled (or stays refunded). */
  EnrollmentGranted: enrollmentAnswerPayload,
  /** Courses applied a PaymentRefunded: the access that payment granted is revoked. */
  EnrollmentRevoked: enrollmentAnswerPayload,
  /** A payment was created and waits for the provider: the buyer has a payment in flight. */
  PaymentStarted: paymentPayload,
  /** A payment failed: it is no longer in flight. */
  PaymentFailed: paymentPayload,
  /** A privileged or security-relevant action, for users' audit log. */
  AuditRecorded: auditRecordedPayload,
  /** Users asks for every participant's part of a data export. */
  DataExportRequested: dataExportRequestedPayload,
  /** A participant's part of a data export. */
  DataExportPartReady: dataExportPartPayload,
  /** Users starts the erasure of an account whose cool-off ended. */
  AccountErasureRequested: accountErasureRequestedPayload,
  /** A participant finished its part of an erasure. */
  AccountErasureStepCompleted: accountErasureStepPayload,
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;

/** The names, for code that wants a constant rather than a string literal. */
export const EVENTS = {
  PaymentSucceeded: 'PaymentSucceeded',
  PaymentRefunded: 'PaymentRefunded',
  CourseUpdated: 'CourseUpdated',
  EnrollmentGranted: 'EnrollmentGranted',
  EnrollmentRevoked: 'EnrollmentRevoked',
  PaymentStarted: 'PaymentStarted',
  PaymentFailed: 'PaymentFailed',
  AuditRecorded: 'AuditRecorded',
  DataExportRequested: 'DataExportRequested',
  DataExportPartReady: 'DataExportPartReady',
  AccountErasureRequested: 'AccountErasureRequested',
  AccountErasureStepCompleted: 'AccountErasureStepCompleted',
} as const satisfies { [T in EventType]: T };

/** What a consumer receives for `T`, validated. */
export type EventPayload<T extends EventType> = z.output<(typeof EVENT_PAYLOADS)[T]>;

/** What a producer writes for `T` (a type alias, as Prisma's Json input wants index-compatible shapes). */
export type EventPayloadInput<T extends EventType> = z.input<(typeof EVENT_PAYLOADS)[T]>;

/** The envelope every consumer checks before the payload: the id is what it deduplicates on. */
const envelope = z.object({ id: z.uuid() });

export type ContractHandlers = {
  [T in EventType]?: (event: DomainEvent<EventPayload<T>> & { type: T }) => Promise<void>;
};

/**
 * Consumes the contract's events as `group`: each event is checked against its type's schema
 * first. One that fails can never succeed, so it is logged as an error and acknowledged, never
 * retried forever and never handed to the handler; a handler that throws gets the event again.
 *
 * While tracing is on, each delivery runs in a span `process <type>` of a trace of its own that
 * LINKS to the span of the transaction that wrote the event (its `traceContext`): the handling is
 * caused by that request but is not part of it (it runs later, and again on a redelivery).
 */
export function consumeEvents(bus: EventBus, group: string, handlers: ContractHandlers, logger: Logger): Promise<() => Promise<void>> {
  const types = Object.keys(handlers) as EventType[];
  return bus.consume(group, types, async (event) => {
    const type = event.type as EventType;
    const handler = handlers[type] as ((event: DomainEvent) => Promise<void>) | undefined;
    if (!handler || !Object.hasOwn(EVENT_PAYLOADS, type)) return;
    const id = envelope.safeParse(event);
    const payload = EVENT_PAYLOADS[type].safeParse(event.payload);
    if (!id.success || !payload.success) {
      const issues = [...(id.error?.issues ?? []), ...(payload.error?.issues ?? [])];
      logger.error({ eventId: event.id, type: event.type, issues }, 'dropping a malformed event');
      return;
    }
    const attributes = () => ({
      'messaging.operation.type': 'process',
      'messaging.destination.name': event.type,
      'messaging.message.id': event.id,
      'messaging.consumer.group.name': group,
    });
    await inLinkedSpan(group, `process ${event.type}`, event.traceContext, attributes, () => handler({ ...event, payload: payload.data }));
  });
}
