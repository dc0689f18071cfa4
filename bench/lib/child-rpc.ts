/**
 * A child process the benchmark talks to by request and reply over IPC (the subscribers, the
 * attackers): each request carries an id, the child answers `{ id, value }` or `{ id, error }`.
 * A reply that does not come within `replyTimeoutMs` (or a child that exits) fails the request,
 * so the benchmark cannot wait forever on a child that died.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface ChildRpc<R> {
  child: ChildProcess;
  request<T>(request: R): Promise<T>;
}

export function forkChildRpc<R extends { type: string }>(entry: string, name: string, replyTimeoutMs?: number): ChildRpc<R> {
  const child = fork(entry, [], { execArgv: ['--conditions=source', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(`${name} process: ${m.error}`));
    else p?.resolve(m.value);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the ${name} process exited with ${code}`));
    pending.clear();
  });
  const request = <T>(r: R) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer =
        replyTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              pending.delete(id);
              reject(new Error(`the ${name} process did not answer "${r.type}" within ${replyTimeoutMs / 1000} s`));
            }, replyTimeoutMs);
      pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.send({ id, ...r });
    });
  return { child, request };
}
