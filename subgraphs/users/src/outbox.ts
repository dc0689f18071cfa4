/**
 * The events users publishes for other services, written to the outbox in the same transaction as
 * the change they announce, so one never exists without the other. The kit's relay publishes them
 * to the event bus (service.ts). Names and payloads are the kit's event contracts
 * (packages/kit/src/events/contracts.ts).
 *
 * Both are acknowledged types (docs/delivery.md): every participant answers (DataExportPartReady,
 * AccountErasureStepCompleted), and the relay publishes the request again, with the same event id,
 * until users has recorded every answer and acknowledged the row (data-export.ts, erasure.ts).
 */
import { randomUUID } from 'node:crypto';
import { currentTraceContext } from '@campus/kit/core';
import { EVENTS, type EventPayloadInput } from '@campus/kit/events';
import type { Prisma } from './generated/prisma/client.ts';

/** The types users waits for every participant to answer. */
export const ACKNOWLEDGED_TYPES = [EVENTS.DataExportRequested, EVENTS.AccountErasureRequested] as const;

/** The services besides users that hold a part of every export and take a step in every erasure. */
export const PARTICIPANTS = ['courses', 'payments'] as const;

type UsersEvent = (typeof ACKNOWLEDGED_TYPES)[number];

/** Writes `type` to the outbox in `tx`; returns the event id the answers will name (`acknowledges`). */
export async function recordEvent<T extends UsersEvent>(tx: Prisma.TransactionClient, type: T, payload: EventPayloadInput<T>): Promise<string> {
  const id = randomUUID();
  // The trace of the request (or poll) that wrote it: the participants' handling links to it.
  await tx.outboxEvent.create({ data: { id, type, payload, traceContext: currentTraceContext() } });
  return id;
}
