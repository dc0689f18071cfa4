/**
 * The parent's handle on the attacker process (attacker-process.ts): one request, one reply, over
 * IPC, each with a deadline so that the benchmark cannot wait forever on a child that died.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild } from './stop-child.ts';

export interface StartAttack {
  /** The router's GraphQL URL. */
  url: string;
  /** Names from hostile-operations.ts. */
  kinds: string[];
  /** Source address of each kind. */
  addresses: Record<string, string>;
  timeoutMs: number;
}

export interface OutcomeSummary {
  /** http-request.ts's outcome label. */
  label: string;
  count: number;
  p50: number;
  max: number;
  maxBytes: number;
}

export interface KindReport {
  kind: string;
  sent: number;
  /** In flight when the phase ended, cut by the attacker: no outcome. */
  cut: number;
  outcomes: OutcomeSummary[];
}

export type AttackerRequest = { type: 'start'; start: StartAttack } | { type: 'stop' };

export interface Attackers {
  start(start: StartAttack): Promise<void>;
  /** Cuts the requests in flight and reports every answer since start. */
  stop(): Promise<KindReport[]>;
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./attacker-process.ts', import.meta.url));
const REPLY_TIMEOUT_MS = 30_000;

export function forkAttackers(): Attackers {
  const child = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(`attacker process: ${m.error}`));
    else p?.resolve(m.value);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the attacker process exited with ${code}`));
    pending.clear();
  });
  const request = <T>(r: AttackerRequest) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the attacker process did not answer "${r.type}" within ${REPLY_TIMEOUT_MS / 1000} s`));
      }, REPLY_TIMEOUT_MS);
      pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.send({ id, ...r });
    });
  return {
    start: (start) => request({ type: 'start', start }),
    stop: () => request({ type: 'stop' }),
    close: () => stopChild(child, 5_000),
  };
}
