/**
 * The one way tests (and the benchmark) wait: on a condition, never on a timer alone. `waitFor`
 * works as vitest's `vi.waitFor` does (call the check on an interval until it passes or the time
 * is up; a check that throws has not passed yet), and also takes a falsy answer as "not yet", so
 * a condition reads as a plain boolean. It does not import vitest, so scripts outside a test run
 * (bench/) use it too.
 */

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 20 ms. */
  intervalMs?: number;
}

/**
 * Calls `check` until it returns something other than undefined, null or false (without
 * throwing), and resolves with that value; fails after `timeoutMs` naming `what` and the last error.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, options: number | WaitOptions = {}): Promise<NonNullable<Exclude<T, false>>> {
  const { timeoutMs = 10_000, intervalMs = 20 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<Exclude<T, false>>;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : String(last)})`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`, last === undefined ? undefined : { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Rejects after `ms`: a bound on a promise, so a wait that never ends fails the test with a message. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
