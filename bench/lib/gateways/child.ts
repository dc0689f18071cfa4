/**
 * The parent's handle on a forked helper process that first announces `{ ready }` and then
 * answers `{ id, type }` requests with `{ id, value }` (as bench/lib/child-rpc.ts, which forks
 * without an environment of its own). A reply that does not come in time, or a child that exits,
 * fails the request instead of hanging the benchmark.
 */
import type { ChildProcess } from 'node:child_process';
import { stopChild } from '../stop-child.ts';

export interface ChildHandle {
  ready<T>(timeoutMs: number): Promise<T>;
  request<T>(message: { type: string }): Promise<T>;
  stop(): Promise<void>;
}

export function forkChildRpcFrom(child: ChildProcess, name: string, replyTimeoutMs: number): ChildHandle {
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  let exited: string | undefined;
  child.on('message', (m: { id?: number; value?: unknown }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    clearTimeout(p?.timer);
    p?.resolve(m.value);
  });
  child.on('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `exit code ${code}`;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`the ${name} process ended (${exited})`));
    }
    pending.clear();
  });
  return {
    ready: <T>(timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the ${name} process was not ready within ${timeoutMs / 1000} s`)), timeoutMs);
        const onMessage = (m: { ready?: T }) => {
          if (!m.ready) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m.ready);
        };
        child.on('message', onMessage);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the ${name} process exited with ${code} before it was ready`));
        });
      }),
    request: <T>(message: { type: string }) =>
      new Promise<T>((resolve, reject) => {
        if (exited) return reject(new Error(`the ${name} process ended (${exited})`));
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`the ${name} process did not answer "${message.type}" within ${replyTimeoutMs / 1000} s`));
        }, replyTimeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, ...message });
      }),
    stop: () => stopChild(child, 15_000),
  };
}
