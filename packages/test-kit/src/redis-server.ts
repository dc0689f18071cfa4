/**
 * A redis-server of a test's own, on a free port, for outage tests: the machine's Redis is shared
 * with every other test run and must never be stopped or flushed; this one can be killed, frozen and
 * restarted. It keeps nothing on disk (`--save '' --appendonly no`, in a directory of its own), so a
 * restart comes back empty, as a Redis without persistence does after a crash: streams, consumer
 * groups, counters and revocations are gone.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port, empty, and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing is answered, as with a Redis stuck or far away. */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** The server's pid while it runs. */
  pid(): number | undefined;
  /** Kills it (if running) and removes its working directory. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Whether redis-server can be run here (outage tests skip themselves without it). */
export function haveRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One PING over a raw socket: true when the server answers PONG within `timeoutMs`. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (b) => done(b.toString().startsWith('+PONG')));
  });
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'campus-test-redis-'));
  let child: ChildProcess | undefined;
  let output = '';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (alive()) throw new Error(`the test's redis-server on port ${port} is already running`);
    const spawned = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    spawned.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    spawned.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (!alive()) throw new Error(`redis-server exited on port ${port}:\n${output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s:\n${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async () => {
    const running = child;
    if (!running || !alive()) return;
    const ended = new Promise<void>((r) => running.once('exit', () => r()));
    // A frozen server must wake to die.
    running.kill('SIGCONT');
    running.kill('SIGKILL');
    await ended;
  };
  // A test process that ends without reaching afterAll must not leave the server behind.
  const killNow = () => {
    if (alive()) child!.kill('SIGKILL');
  };
  process.on('exit', killNow);

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    pid: () => (alive() ? child!.pid : undefined),
    async stop() {
      await kill();
      process.off('exit', killNow);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
