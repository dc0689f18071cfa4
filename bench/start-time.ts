/**
 * npm run bench:start [-- --against DIR] [--rounds N]
 *
 * How long until a process is ready (GET /ready, docs/readiness.md), for the commands an operator and a newcomer run:
 *   - `npm start` in a fresh clone right after `npm ci`: nothing generated, no data (a copy of the
 *     files git knows, with this checkout's installed packages linked in, as `npm ci` would leave
 *     them; the copy is made before the clock starts),
 *   - `npm start` on an empty data directory (first start: migrations and demo data),
 *   - `npm start` again on the same directory (restart),
 *   - the router alone as production starts it (the image's `node dist/index.js`), and through npm
 *     (`npm start -w @campus/router`, the same plus npm's own start), for comparison.
 * Targets (docs/performance.md, "Start time"): restart <= 5 s, fresh clone <= 10 s, router alone <= 1.5 s.
 * With --against DIR (another checkout, installed and generated, e.g. a git worktree of an older
 * commit) every measurement runs in both checkouts, interleaved round by round, and the report
 * gives medians and their ratio. A checkout's router must be startable as that checkout's README
 * says (run `npm run build` first where production runs compiled code).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { median, table } from './lib/stats.ts';

interface Target {
  name: string;
  /** What it should take at most (docs/performance.md, "Start time"), reported beside the medians; none for a row shown for comparison. */
  targetMs?: number;
  command(root: string, port: number, dataDir: string): string[];
  /** Where the command runs, made before the clock starts (a fresh clone); default: the checkout itself. */
  prepare?(root: string): { cwd: string; remove(): void };
}

const TARGETS: Target[] = [
  { name: 'npm start, fresh clone after npm ci', targetMs: 10_000, command: () => ['npm', 'start'], prepare: freshClone },
  { name: 'npm start, first start (empty .data)', targetMs: 10_000, command: () => ['npm', 'start'] },
  { name: 'npm start, restart', targetMs: 5_000, command: () => ['npm', 'start'] },
  // As production starts it: the router image's command (Dockerfile, `node dist/index.js`). npm's
  // own start (a few tenths of a second of its CLI) is not part of it; the next row shows it.
  {
    name: 'router alone (production start: node dist/index.js)',
    targetMs: 1_500,
    command: (root) => ['node', join(root, 'router/dist/index.js'), '--supergraph', join(root, 'router/supergraph.graphql')],
  },
  {
    name: 'router alone through npm (npm start -w @campus/router)',
    command: (root) => ['npm', 'start', '-w', '@campus/router', '--', '--supergraph', join(root, 'router/supergraph.graphql')],
  },
];

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const roots = [resolve(import.meta.dirname, '..'), ...(option('--against') ? [resolve(option('--against')!)] : [])];
const rounds = Number(option('--rounds') ?? 3);

/** node_modules entries that are tools' caches (tsc, vite): a fresh install has none. */
const CACHES = new Set(['.cache', '.vite', '.vite-temp', '@campus']);

/**
 * The checkout as a fresh clone after `npm ci` leaves it: the files git knows (tracked, and new
 * ones not ignored; so no dist/, src/generated/, supergraphs, .turbo/ or .data/) copied to a
 * temporary directory, and the checkout's installed packages linked in, with @campus/* pointing
 * at the copy's own workspaces (as packages/stack/test/tooling/repo-copy.ts does for one root).
 */
function freshClone(root: string): { cwd: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'campus-start-clone-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  const link = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) if (!CACHES.has(entry)) symlinkSync(join(from, entry), join(to, entry));
  };
  link(join(root, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'node_modules', '@campus'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules', '@campus'))) {
    const workspace = relative(root, realpathSync(join(root, 'node_modules', '@campus', entry)));
    symlinkSync(join(dir, workspace), join(dir, 'node_modules', '@campus', entry));
    if (existsSync(join(root, workspace, 'node_modules'))) link(join(root, workspace, 'node_modules'), join(dir, workspace, 'node_modules'));
  }
  return { cwd: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The first port above those this machine hands out to outgoing connections: a port is checked
 * free seconds before the process under test listens on it, and meanwhile any connection (the
 * stack's own, another benchmark's) may take one of the ephemeral range as its local port.
 */
const EPHEMERAL_START = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
})();

async function freePortBlock(): Promise<number> {
  // The embedded default puts the subgraphs on the three ports after the router's.
  const [low, high] = EPHEMERAL_START > 20_100 ? [20_000, EPHEMERAL_START - 4] : [EPHEMERAL_START + 1_000, 65_000];
  for (;;) {
    const base = low + Math.floor(Math.random() * (high - low));
    const free = await Promise.all([0, 1, 2, 3].map((i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

/** Free on every interface, as the stack and the router listen (IPv4 and IPv6). */
function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, () => server.close(() => done(true)));
  });
}

const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Ends the whole process group (npm, turbo, node) and waits until every member is gone: the next
 * start reuses the data directory, which a draining service still holds.
 */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid!;
  if (groupAlive(pid)) process.kill(-pid, 'SIGTERM');
  const deadline = performance.now() + 15_000;
  while (groupAlive(pid)) {
    if (performance.now() > deadline) process.kill(-pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Whether the process on `port` has started: /ready answers 200, or only its `subgraphs` check is
 * down (the router measured alone has no subgraphs to reach; its own start is what is timed). A
 * checkout older than /ready (404) is asked GET /health, which meant the same there.
 */
async function started(port: number): Promise<boolean> {
  const ready = await fetch(`http://127.0.0.1:${port}/ready`);
  if (ready.ok) return true;
  if (ready.status === 404) return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  const checks = ((await ready.json().catch(() => ({}))) as { checks?: Record<string, { status: string }> }).checks ?? {};
  const down = Object.entries(checks).filter(([, c]) => c.status === 'down').map(([name]) => name);
  return down.length > 0 && down.every((name) => name === 'subgraphs');
}

/** Milliseconds from spawning `command` until the process on `port` has started (above). */
async function timeToHealth(root: string, command: string[], port: number, dataDir: string): Promise<number> {
  const logFile = join(dataDir, `${command.slice(0, 2).map((part) => basename(part)).join('-')}-${port}.log`);
  const log = openSync(logFile, 'w');
  const startedAt = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    detached: true,
    // Both streams: a service's fatal line is a log line on stdout.
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ROUTER_PORT: String(port),
      USERS_PORT: String(port + 1),
      COURSES_PORT: String(port + 2),
      PAYMENTS_PORT: String(port + 3),
      CAMPUS_DATA_DIR: dataDir,
    },
  });
  try {
    for (;;) {
      if (child.exitCode !== null) {
        const log = readFileSync(logFile, 'utf8');
        throw new Error(`${command.join(' ')} in ${root} exited with ${child.exitCode}:\n${log.slice(-2000)}`);
      }
      try {
        if (await started(port)) return performance.now() - startedAt;
      } catch {
        // Not listening yet.
      }
      if (performance.now() - startedAt > 180_000) throw new Error(`${command.join(' ')} in ${root}: not ready within 180 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await stopGroup(child);
  }
}

const samples = new Map<string, number[]>();
const key = (target: string, root: string) => `${target}\u0000${root}`;

for (let round = 1; round <= rounds; round++) {
  // Alternate which checkout goes first, so that neither always runs on a warmer machine.
  const order = round % 2 ? roots : [...roots].reverse();
  for (const root of order) {
    const dataDir = mkdtempSync(join(tmpdir(), 'campus-start-'));
    try {
      for (const target of TARGETS) {
        const port = await freePortBlock();
        const place = target.prepare?.(root);
        // A fresh clone starts on an empty data directory of its own, and leaves none behind.
        const targetData = place ? mkdtempSync(join(tmpdir(), 'campus-start-')) : dataDir;
        let ms: number;
        try {
          ms = await timeToHealth(place?.cwd ?? root, target.command(place?.cwd ?? root, port, targetData), port, targetData);
        } finally {
          place?.remove();
          if (place) rmSync(targetData, { recursive: true, force: true });
        }
        samples.set(key(target.name, root), [...(samples.get(key(target.name, root)) ?? []), ms]);
        console.error(`round ${round} ${root}: ${target.name}: ${(ms / 1000).toFixed(2)} s`);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const header = ['time to /ready (median)', 'target', ...roots.map((r) => r), ...(roots.length > 1 ? ['ratio'] : [])];
const rows = TARGETS.map((t) => {
  const medians = roots.map((r) => median(samples.get(key(t.name, r))!));
  const cells = medians.map((m, i) => `${seconds(m)} [${samples.get(key(t.name, roots[i]!))!.map((x) => (x / 1000).toFixed(1)).join(', ')}]`);
  const target = t.targetMs === undefined ? '' : `<= ${seconds(t.targetMs)} (${medians[0]! <= t.targetMs ? 'met' : 'missed'})`;
  return [t.name, target, ...cells, ...(roots.length > 1 ? [`${(medians[0]! / medians[1]!).toFixed(2)}x`] : [])];
});
console.log(`${rounds} rounds, interleaved; [all samples]`);
console.log(table(header, rows));
