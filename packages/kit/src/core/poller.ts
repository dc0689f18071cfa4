/**
 * A background job that runs every `intervalMs` and on request (`poke`), one run at a time, and
 * stops cleanly: what payments' webhook inbox, sandbox webhook sender, reconciliation and
 * idempotency pruning share, and users' erasure saga and export expiry (subgraphs/users/src/service.ts).
 * Their state is in the database, so a tick lost to a restart only delays the work; nothing in
 * memory has to survive.
 */
import type { Logger } from './logger.ts';

export interface Poller {
  /** Starts the timer; the first run is at once. */
  start(): void;
  /** Runs now (or once more right after the run in progress); resolves when that run is done. */
  poke(): Promise<void>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export interface PollerOptions {
  /** For the log line when a run fails. */
  name: string;
  intervalMs: number;
  logger: Logger;
  run: () => Promise<void>;
}

export function createPoller({ name, intervalMs, logger, run }: PollerOptions): Poller {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let started = false;
  let stopped = false;

  function runNow(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run().catch((err) => logger.error({ err, job: name }, `${name} failed; will retry on the next poll`));
        } while (again && !stopped);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const tick = () => {
    void runNow().finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };

  return {
    start() {
      if (started || stopped) return;
      started = true;
      timer = setTimeout(tick, 0);
    },
    poke: runNow,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
