/**
 * A gateway under test in a process of its own, started on the gateways' core (pinning.ts) and
 * timed from spawn to its first good answer: the command is run as production runs it (`node
 * FILE`, no loader), its output goes to a log file (printed when it fails), and it is asked a
 * query every 20 ms until one answers HTTP 200 with data and no errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '@campus/test-kit';
import { rssOf } from '../rss.ts';
import { exitStatus, stopChild } from '../stop-child.ts';
import type { Pinning } from './pinning.ts';

export interface GatewayProcess {
  name: string;
  /** Its /graphql. */
  url: string;
  pid: number;
  /** From spawn to the first good answer to the probe (ms). */
  startToFirstAnswerMs: number;
  logPath: string;
  /** How it ended, null while it runs. */
  exited(): string | null;
  stop(): Promise<void>;
}

export interface GatewayStart {
  name: string;
  /** Node arguments (script and flags); `node` is this process's own executable. */
  nodeArgs: string[];
  /** Environment on top of this process's; PORT and ROUTER_PORT are set to a free port. */
  env: Record<string, string>;
  cwd: string;
  /** Where logs go (a file per gateway). */
  logDir: string;
  pinning: Pinning;
  /** What the first answer must answer: a query without errors. */
  probe: { body: unknown; headers?: Record<string, string> };
  timeoutMs?: number;
  /** Cores it is pinned to (a router with ROUTER_WORKERS > 1): pinning.ts. */
  cores?: number;
}

export async function startGateway(o: GatewayStart): Promise<GatewayProcess> {
  const port = await freePort();
  const logPath = join(o.logDir, `${o.name.replace(/\W+/g, '-')}.log`);
  const log = openSync(logPath, 'a');
  const { file, args } = o.pinning.command([process.execPath, ...o.nodeArgs], o.cores);
  const startedAt = performance.now();
  // taskset execs node in place: the pid is the gateway's, for /proc.
  const child: ChildProcess = spawn(file, args, {
    cwd: o.cwd,
    env: { ...process.env, ...o.env, PORT: String(port), ROUTER_PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const url = `http://127.0.0.1:${port}/graphql`;
  const fail = (why: string) => new Error(`${o.name}: ${why}. Its log (${logPath}):\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
  const deadline = startedAt + (o.timeoutMs ?? 120_000);
  const body = JSON.stringify(o.probe.body);
  let last = 'no answer';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw fail(`exited (${exitStatus(child)}) before answering`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...o.probe.headers }, body });
      const json = (await res.json().catch(() => undefined)) as { data?: unknown; errors?: unknown } | undefined;
      if (res.status === 200 && json?.data && !json.errors) break;
      last = `HTTP ${res.status} ${JSON.stringify(json).slice(0, 500)}`;
      // A refusal is an answer: the gateway is up and will not answer the probe.
      if (res.status >= 400 && res.status < 500) {
        await stopChild(child, 5_000);
        throw fail(`refused the probe query (${last})`);
      }
    } catch (e) {
      if ((e as Error).message?.includes('refused the probe')) throw e;
      // Not listening yet.
      last = String((e as Error).cause ?? e);
    }
    if (performance.now() > deadline) {
      await stopChild(child, 5_000);
      throw fail(`no good answer within ${(o.timeoutMs ?? 120_000) / 1000} s (last: ${last})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const startToFirstAnswerMs = performance.now() - startedAt;
  return {
    name: o.name,
    url,
    pid: child.pid!,
    startToFirstAnswerMs,
    logPath,
    exited: () => exitStatus(child),
    // A graceful stop first: a --cpu-prof profile is written only on a normal exit.
    stop: () => stopChild(child, 15_000),
  };
}

/**
 * A process and its descendants (a clustered router's workers), from /proc's parent pids; [pid]
 * where there is no /proc.
 */
export function processTree(pid: number): number[] {
  let stats: { pid: number; ppid: number }[];
  try {
    stats = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          return { pid: Number(d), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
        } catch {
          return { pid: Number(d), ppid: -1 };
        }
      });
  } catch {
    return [pid];
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const s of stats) if (s.ppid === tree[i]) tree.push(s.pid);
  return tree;
}

/** Resident memory summed over a process tree now (bytes): rss.ts's rssOf per process. */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssOf(p).rss, 0);
}

/** CPU time (user + system, all threads) a process and its descendants have used so far, in seconds, from /proc; NaN elsewhere. */
export function cpuSecondsOf(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + ownCpuSecondsOf(p), 0);
}

function ownCpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
