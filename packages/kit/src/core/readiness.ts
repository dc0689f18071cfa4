/**
 * Liveness and readiness, one mechanism for every subgraph and the router (docs/readiness.md).
 *
 *   GET /health   liveness: the process is up and its event loop answers. It touches no
 *                 dependency, so a database outage never makes an orchestrator restart every
 *                 instance of a service that would recover by itself.
 *   GET /ready    readiness: every check of the process answered within its timeout. 503 names
 *                 what is down, or says `draining` once the process has begun to stop, so a load
 *                 balancer sends it no new traffic.
 *
 * A check is bounded by its timeout (a hung dependency must not hang the probe). Concurrent /ready
 * calls share one evaluation, and the result of a check that asks a dependency answers the calls
 * of the next REUSE_MS too: a flood of probes must not become a flood of queries to the
 * dependencies, even when each query is quick. A check that costs calls to other services can
 * keep its result longer (cacheMs). A check that reads only the process's own state (`local`) is
 * asked on every probe: the moment that state changes (a supergraph loaded, a planner started),
 * /ready says so, rather than repeating an earlier 503 for up to REUSE_MS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorReason } from './error-reason.ts';

export const DEFAULT_CHECK_TIMEOUT_MS = 1_000;
/** How long a dependency's result answers further probes: short beside any probe period. */
export const REUSE_MS = 500;

/** Thrown by a check to say why it is down, with details shown beside the reason. */
export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export interface ReadinessCheck {
  /** Its key in the answer's `checks` (database, redis, supergraph, subgraphs ...). */
  name: string;
  /**
   * Resolves when the dependency can serve (optionally with details for the answer); throws with
   * the reason when it cannot. `signal` aborts when the timeout passes.
   */
  run(signal: AbortSignal): Promise<Record<string, unknown> | void>;
  /** Past this the check is down (default DEFAULT_CHECK_TIMEOUT_MS). */
  timeoutMs?: number;
  /**
   * True when it asks no dependency, only this process's state: run on every evaluation, its
   * result never reused. Otherwise its result is reused for REUSE_MS (or cacheMs).
   */
  local?: boolean;
  /** Reuses a result for this long instead of REUSE_MS; for checks that call other services. */
  cacheMs?: number;
  /** A cached result is reused only while this returns the same value (e.g. the supergraph's version). */
  cacheKey?: () => unknown;
  /** Releases what the check holds open (a dedicated connection). */
  close?(): Promise<void>;
}

export type CheckResult =
  | { status: 'up'; latencyMs: number; [detail: string]: unknown }
  | { status: 'down'; error: string; latencyMs: number; [detail: string]: unknown };

export interface ReadinessReport {
  status: 'ready' | 'unready';
  service: string;
  /** Why it is unready: `draining`, or which checks are down. */
  reason?: string;
  checks: Record<string, CheckResult>;
}

export interface Readiness {
  /** Runs every check, or joins the evaluation already running. */
  evaluate(): Promise<ReadinessReport>;
  /** From now on /ready answers 503 `draining` without asking any dependency. Idempotent. */
  drain(): void;
  readonly draining: boolean;
  /** GET /health: 200 while the event loop answers. */
  health(req: IncomingMessage, res: ServerResponse): void;
  /** GET /ready: 200 ready, or 503 naming what is down. */
  ready(req: IncomingMessage, res: ServerResponse): void;
  /** Drains and releases what the checks hold open. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // A probe's answer is about this instant: no proxy may serve it later.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** One check, bounded by its timeout; never throws. */
async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const latency = () => Math.round(performance.now() - started);
  try {
    const details = await Promise.race([check.run(controller.signal), timedOut]);
    return { status: 'up', latencyMs: latency(), ...(details ?? {}) };
  } catch (err) {
    const details = err instanceof CheckFailed ? err.details : {};
    return { status: 'down', error: errorReason(err), latencyMs: latency(), ...details };
  } finally {
    clearTimeout(timer);
  }
}

export function createReadiness(service: string, checks: ReadinessCheck[], { reuseMs = REUSE_MS }: { reuseMs?: number } = {}): Readiness {
  let draining = false;
  let inFlight: Promise<ReadinessReport> | undefined;
  const reused = new Map<string, { at: number; key: unknown; result: CheckResult }>();

  const resultOf = async (check: ReadinessCheck): Promise<CheckResult> => {
    if (check.local) return runCheck(check);
    const ttlMs = check.cacheMs ?? reuseMs;
    const hit = reused.get(check.name);
    const key = check.cacheKey?.();
    if (hit && hit.key === key && performance.now() - hit.at < ttlMs) return hit.result;
    const result = await runCheck(check);
    reused.set(check.name, { at: performance.now(), key, result });
    return result;
  };

  const evaluateNow = async (): Promise<ReadinessReport> => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await resultOf(c)] as const));
    const down = results.filter(([, r]) => r.status === 'down').map(([name]) => name);
    // A drain that began while the checks ran wins: the answer must not invite new traffic.
    if (draining) return drainingReport();
    return {
      status: down.length ? 'unready' : 'ready',
      service,
      ...(down.length ? { reason: `down: ${down.join(', ')}` } : {}),
      checks: Object.fromEntries(results),
    };
  };
  const drainingReport = (): ReadinessReport => ({ status: 'unready', service, reason: 'draining', checks: {} });

  const evaluate = (): Promise<ReadinessReport> => {
    if (draining) return Promise.resolve(drainingReport());
    inFlight ??= evaluateNow().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return {
    evaluate,
    drain: () => {
      draining = true;
    },
    get draining() {
      return draining;
    },
    health: (_req, res) => send(res, 200, { status: 'ok', service }),
    ready: (_req, res) => {
      void evaluate().then(
        (report) => send(res, report.status === 'ready' ? 200 : 503, report),
        // evaluate never rejects (every check is caught); this is the last guard of a probe.
        (err: unknown) => send(res, 503, { status: 'unready', service, reason: errorReason(err), checks: {} }),
      );
    },
    async close() {
      draining = true;
      await inFlight?.catch(() => {});
      await Promise.all(checks.map((c) => c.close?.()));
    },
  };
}
