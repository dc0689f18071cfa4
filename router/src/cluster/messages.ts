/**
 * What the router's primary and its worker processes say to each other over the cluster's IPC
 * channel (primary.ts, worker.ts, metrics.ts). Every message has a `type` starting `campus:`, so
 * anything else on the channel (prom-client's own, a probe's) is left alone.
 */
import type { MetricsJson } from '@campus/kit/core';

/** The worker's number, 1 to ROUTER_WORKERS: a replacement takes the number of the worker it replaces. */
export const WORKER_NUMBER_ENV = 'CAMPUS_ROUTER_WORKER';

export type WorkerMessage =
  /** Started, warmed and listening on the shared port. */
  | { type: 'campus:ready'; pid: number }
  /** This worker's series, for the primary's sum (answer to metrics-collect). */
  | { type: 'campus:metrics-json'; id: number; metrics: MetricsJson }
  /** A scrape reached this worker on the router's port: the primary answers with every worker's series. */
  | { type: 'campus:metrics-request'; id: number };

export type PrimaryMessage =
  | { type: 'campus:metrics-collect'; id: number }
  | { type: 'campus:metrics-text'; id: number; contentType: string; text: string }
  | { type: 'campus:metrics-error'; id: number; error: string };

export function isMessage<T extends { type: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && String((message as { type?: unknown }).type).startsWith('campus:');
}
