/**
 * The lifetime of a Campus process, in one place (docs/service-shape.md): start what the process
 * serves, drain it on SIGINT or SIGTERM, exit. Every entry point (each subgraph's index.ts, the
 * router's) is a call to runProcess; nothing else in a service handles signals or exits.
 *
 * A start that fails ends the process with one fatal log line naming the service and the reason
 * (a ConfigError lists every bad variable; a StartupError names the dependency that did not
 * answer, e.g. `database 127.0.0.1:5432/campus is unreachable: ...`) and exit code 1, instead of an
 * unhandled rejection's stack trace for an operator to decode. Those two are about the
 * environment, so their line carries no stack; any other error is a bug and keeps its stack.
 */
import type { Server } from 'node:http';
import { ConfigError } from './config.ts';
import { errorReason } from './error-reason.ts';
import { createLogger, type Logger } from './logger.ts';
import { StartupError } from './startup-error.ts';
import { flushTracing } from './tracing.ts';

export interface RunningProcess {
  /** The process's logger (its level comes from the config `start` loaded). */
  logger: Logger;
  /** Stops taking work, finishes what is in flight and releases every connection. */
  close(): Promise<void>;
}

export async function runProcess(name: string, start: () => Promise<RunningProcess>): Promise<void> {
  let running: RunningProcess;
  try {
    running = await start();
  } catch (err) {
    const message = `${name} failed to start: ${errorReason(err)}`;
    const logger = createLogger(name);
    if (err instanceof ConfigError || err instanceof StartupError) logger.fatal(message);
    else logger.fatal({ err }, message);
    process.exit(1);
  }
  const { logger } = running;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      logger.info({ signal }, 'draining');
      try {
        await running.close();
        // Spans wait in a batch: without this the last requests' traces would be lost.
        await flushTracing().catch((err: unknown) => logger.warn({ err }, 'could not export the last spans'));
      } catch (err) {
        logger.error({ err }, 'draining failed');
        process.exit(1);
      }
      process.exit(0);
    });
  }
}

/** Listens on `port` (and `host`, absent = every interface); rejects when it cannot (EADDRINUSE). */
export async function listenOn(server: Server, port: number, host?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
