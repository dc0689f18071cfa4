/**
 * Stops a child process with SIGTERM, then SIGKILL after a grace period. A router whose event loop
 * is stuck planning a hostile operation does not run its SIGTERM handler until planning ends, so
 * waiting for a graceful exit alone could hang the benchmark.
 */
import type { ChildProcess } from 'node:child_process';

export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** "exit code N" or "signal SIGKILL" once the child has ended (an OOM kill shows as a signal), else null. */
export function exitStatus(child: ChildProcess): string | null {
  if (child.signalCode) return `signal ${child.signalCode}`;
  return child.exitCode === null ? null : `exit code ${child.exitCode}`;
}
