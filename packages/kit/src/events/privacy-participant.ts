/**
 * What courses and payments share as participants of users' data export and account erasure
 * (docs/privacy.md): the requests as their event handlers pass them on, and the shapes of their
 * answers. Each service's data-export.ts and erasure.ts say what its part and its step hold.
 */
import type { EventPayloadInput } from './contracts.ts';

/** Rows per list in one export part: a few hundred kilobytes at most, inside one event. */
export const EXPORT_LIMIT = 200;

/** A DataExportRequested, as a participant handles it. */
export interface ExportRequest {
  /** The request event's id: the answer acknowledges it. */
  eventId: string;
  exportId: string;
  userId: string;
}

/** A participant's part of an export (DataExportPartReady's `part`). */
export type ExportPart = EventPayloadInput<'DataExportPartReady'>['part'];

/** An AccountErasureRequested, as a participant handles it. */
export interface ErasureRequest {
  /** The request event's id: the answer acknowledges it. */
  eventId: string;
  deletionId: string;
  userId: string;
  pseudonym: string;
}

/** What a participant's erasure step did, as counts (AccountErasureStepCompleted's `summary`). */
export type ErasureSummary = EventPayloadInput<'AccountErasureStepCompleted'>['summary'];

export interface ErasureResult {
  summary: ErasureSummary;
  /** False when the deletion had been done before (a redelivery): nothing changed this time. */
  first: boolean;
}
