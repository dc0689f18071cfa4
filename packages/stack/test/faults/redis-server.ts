/**
 * A Redis server of the fault suite's own, on a free port. The machine's Redis is shared with every
 * other test run and must never be stopped or flushed; this one can be killed. It keeps nothing on
 * disk (`--save '' --appendonly no`), so a restart comes back empty, as a Redis without persistence
 * does after a crash: consumer groups, streams, counters and revocations are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@campus/test-kit';

export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port (empty) and waits until it answers PING. */
  restart(): Promise<void>;
  pid(): number | undefined;
  /** Kills it (if running) and removes its working directory. Safe to call more than once. */
  stop(): Promise<void>;
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
  // Its own working directory, so even a Redis that ignored `--save ''` would not write into the repository.
  const dir = mkdtempSync(join(tmpdir(), 'campus-faults-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (alive()) throw new Error('the fault suite’s Redis is already running');
    const spawned = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    spawned.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    spawned.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) throw new Error(`redis-server exited on port ${port}:\n${output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s:\n${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async () => {
    const running = child;
    if (!running || !alive()) return;
    const ended = new Promise<void>((r) => running.once('exit', () => r()));
    running.kill('SIGKILL');
    await ended;
  };

  // The suite's afterAll stops it; this covers a test process that ends without reaching afterAll.
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
    pid: () => (alive() ? child!.pid : undefined),
    async stop() {
      await kill();
      process.off('exit', killNow);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
