/**
 * The router in a process of its own (its real entry point, router/src/index.ts), so its memory
 * is measured apart from the subgraphs and the benchmark's clients.
 */
import { freePort } from '@campus/test-kit';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitStatus, stopChild } from './stop-child.ts';

export interface RouterProcess {
  url: string;
  pid: number;
  /** How the process ended ("exit code 1", "signal SIGKILL"), null while it runs. */
  exited(): string | null;
  memory(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROBE = new URL('./memory-probe.mjs', import.meta.url).href;

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the router exited with ${child.exitCode}`);
    try {
      const ready = await fetch(`${url}/ready`);
      if (ready.ok) return;
      // A checkout from before /ready existed (bench/observability.ts --against): /health it is.
      if (ready.status === 404 && (await fetch(`${url}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error('the router was not ready within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `root`: the checkout whose router runs (default this one; another for a side-by-side comparison). */
export async function startRouterProcess(env: Record<string, string>, root: string = REPO): Promise<RouterProcess> {
  const port = await freePort();
  const child = fork(join(root, 'router/src/index.ts'), [], {
    cwd: root,
    execArgv: ['--expose-gc', '--conditions=source', '--import', 'tsx', '--import', PROBE],
    env: { ...process.env, ...env, ROUTER_PORT: String(port), LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child);
  return {
    url: `${url}/graphql`,
    pid: child.pid!,
    exited: () => exitStatus(child),
    memory: () =>
      new Promise((resolve) => {
        const onMessage = (m: unknown) => {
          const memory = (m as { memory?: NodeJS.MemoryUsage }).memory;
          if (!memory) return;
          child.off('message', onMessage);
          resolve(memory);
        };
        child.on('message', onMessage);
        child.send('memory');
      }),
    stop: () => stopChild(child, 15_000),
  };
}
