/**
 * The parent's handle on the attacker process (attacker-process.ts): one request, one reply, over
 * IPC, each with a deadline so that the benchmark cannot wait forever on a child that died.
 */
import { fileURLToPath } from 'node:url';
import { forkChildRpc } from './child-rpc.ts';
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
  const { child, request } = forkChildRpc<AttackerRequest>(ENTRY, 'attacker', REPLY_TIMEOUT_MS);
  return {
    start: (start) => request({ type: 'start', start }),
    stop: () => request({ type: 'stop' }),
    close: () => stopChild(child, 5_000),
  };
}
