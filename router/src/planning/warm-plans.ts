/**
 * The operations a router knows before any client sends them: the persisted-query manifest
 * (router/persisted-queries.json, built from router/operations/ by
 * scripts/build-persisted-queries.ts; TRUSTED_DOCUMENTS_MANIFEST). Their plans are made before
 * the router reports ready (server.ts start(), supergraph-state.ts warm()), so the first requests
 * of the operations clients really send hit the plan cache instead of waiting for a planner
 * thread. That matters most with several worker processes (docs/readiness.md, "Workers"): each
 * has a cache of its own, and without warming every one of them would plan every operation once.
 *
 * The manifest is read whatever TRUSTED_DOCUMENTS says: with trusted documents off, clients still
 * send these operations (the manifest is what the Campus clients send). A manifest that cannot be
 * read only means no warming: edge/trusted-documents.ts is what refuses to start without one.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '@campus/kit/core';
import { parseManifest } from '../edge/persisted-query-manifest.ts';
import type { SupergraphTracker, WarmOperation } from './supergraph-state.ts';

export type WarmupMode = 'manifest' | 'off';

export function manifestOperations(manifestPath: string, logger: Logger): WarmOperation[] {
  try {
    return parseManifest(readFileSync(manifestPath, 'utf8')).operations.map((op) => ({ name: op.name, body: op.body }));
  } catch (err) {
    logger.info({ manifest: manifestPath, reason: (err as Error).message }, 'no query plans warmed: the persisted-query manifest cannot be read');
    return [];
  }
}

/** Plans the manifest's operations into the cache; resolves once done (QUERY_PLAN_WARMUP=off: at once). */
export async function warmPlans(tracker: SupergraphTracker, mode: WarmupMode, manifestPath: string, logger: Logger): Promise<void> {
  if (mode === 'off') return;
  const operations = manifestOperations(manifestPath, logger);
  if (!operations.length) return;
  const report = await tracker.warm(operations);
  // The manifest may name fields a newer supergraph dropped: those are planned (and refused) on use.
  if (report.failed.length) logger.warn({ failed: report.failed }, 'some persisted-query manifest operations could not be planned');
  logger.info({ planned: report.planned, failed: report.failed.length, ms: report.ms }, 'query plans warmed from the persisted-query manifest');
}
