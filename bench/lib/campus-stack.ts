/**
 * The parent's handle on the stack process (stack-process.ts): the subgraphs, with the embedded
 * router beside them, in a process of their own on a temporary data directory that is removed
 * when the process stops.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackReady } from './stack-process.ts';
import { exitStatus, stopChild } from './stop-child.ts';

export interface CampusStack extends StackReady {
  pid: number;
  /** How the process ended, null while it runs (stop-child.ts). */
  exited(): string | null;
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** `root`: the checkout whose stack runs (default this one; another for a side-by-side comparison). */
export async function forkStack(env: Record<string, string>, readyTimeoutMs = 180_000, root: string = REPO): Promise<CampusStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'campus-bench-'));
  const child = fork(join(root, 'bench/lib/stack-process.ts'), [], {
    cwd: root,
    execArgv: ['--conditions=source', '--import', 'tsx'],
    env: { ...process.env, ...env, CAMPUS_DATA_DIR: dataDir },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const cleanUp = () => rmSync(dataDir, { recursive: true, force: true });
  let ready: StackReady;
  try {
    ready = await new Promise<StackReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the stack was not ready within ${readyTimeoutMs / 1000} s`)), readyTimeoutMs);
      child.once('message', (m: { ready?: StackReady }) => {
        clearTimeout(timer);
        if (m.ready) resolve(m.ready);
        else reject(new Error(`unexpected message from the stack process: ${JSON.stringify(m)}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the stack process exited with ${code} before it was ready`));
      });
    });
  } catch (e) {
    await stopChild(child, 5_000);
    cleanUp();
    throw e;
  }
  return {
    ...ready,
    pid: child.pid!,
    exited: () => exitStatus(child),
    async stop() {
      await stopChild(child, 15_000);
      cleanUp();
    },
  };
}
