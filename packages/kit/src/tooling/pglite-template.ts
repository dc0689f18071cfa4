/**
 * PGlite databases that start fast. A fresh cluster costs PGlite an initdb (seconds of
 * WebAssembly, below); loading a dump of an empty one costs well under 1 s. So every
 * new database is made from the dump of an empty cluster (a tar of its data directory), made once
 * per installed PGlite version and kept under the repository's node_modules/.cache, beside the
 * tools' other caches (a fresh clone has none; where it cannot be written, once per process).
 * Tests open dozens in memory, the schema engine one per diff, the embedded default three in
 * directories on its first start.
 *
 * Every database is opened with PGLITE_OPTIONS (below): a smaller buffer pool than Postgres's
 * default, which was most of what opening a database cost.
 *
 * A process that knows which databases in directories it will open (the embedded default,
 * packages/stack/src/start-early.ts) has them made and opened before it needs them:
 * `prepareEmptyPgliteDirs` unpacks the empty cluster into each new directory (once a process of its
 * own has made the dump, when there is none yet), and `openPgliteDirsEarly` starts opening them while the
 * process is still loading its modules. `openPgliteDir` waits for both.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { installedVersions } from './generation-stamp.ts';
import { ONE_SHOT_WASM_NODE_FLAGS } from './one-shot-wasm.ts';

/**
 * How every database of this kit is opened. Postgres touches every page of its shared buffers at
 * start; under WebAssembly that is about 0.9 s of CPU per open at the default 128 MB and about
 * 0.1 s at 16 MB, on every start of every embedded database and every in-memory test database.
 * The embedded databases hold a few MB each (demo data, tests), and a page that does not fit is
 * read back from the OS page cache (a data directory) or from memory (an in-memory database).
 */
export const PGLITE_OPTIONS = {
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
} satisfies PGliteOptions;

/** The dump of an empty cluster kept between processes (above); undefined where there is no node_modules. */
function cachedDumpFile(): string | undefined {
  // packages/kit/{src,dist}/tooling/ -> the repository's node_modules, in a checkout as in the image.
  const nodeModules = fileURLToPath(new URL('../../../../node_modules/', import.meta.url));
  if (!existsSync(nodeModules)) return undefined;
  const { '@electric-sql/pglite': version } = installedVersions(fileURLToPath(new URL('../../', import.meta.url)), ['@electric-sql/pglite']);
  const key = createHash('sha256').update(`${version}\0${PGLITE_OPTIONS.startParams.join('\0')}`).digest('hex').slice(0, 16);
  return join(nodeModules, '.cache', 'campus-pglite', `empty-cluster-${key}.tar`);
}

const DUMP_FILE = cachedDumpFile();

function readCachedDump(): Uint8Array | undefined {
  try {
    return DUMP_FILE && existsSync(DUMP_FILE) ? readFileSync(DUMP_FILE) : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort (a read-only install makes the dump again next time); written whole or not at all. */
function writeCachedDump(bytes: Uint8Array): void {
  if (!DUMP_FILE) return;
  const staging = `${DUMP_FILE}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(DUMP_FILE), { recursive: true });
    writeFileSync(staging, bytes);
    renameSync(staging, DUMP_FILE);
  } catch {
    rmSync(staging, { force: true });
  }
}

let emptyCluster: Promise<Uint8Array> | undefined;

/**
 * The empty cluster: the cached dump, or made (by a process of its own, below; in this one only if
 * that fails) and cached for the next databases of this process and the next processes.
 */
function emptyClusterDump(): Promise<Uint8Array> {
  emptyCluster ??= (async () => {
    const cached = readCachedDump();
    if (cached) return cached;
    const made = (await initdbInChild()) ?? (await initdbHere());
    writeCachedDump(made);
    return made;
  })();
  return emptyCluster;
}

async function initdbHere(): Promise<Uint8Array> {
  const template = await PGlite.create(PGLITE_OPTIONS);
  try {
    return new Uint8Array(await (await template.dumpDataDir('none')).arrayBuffer());
  } finally {
    await template.close();
  }
}

/** A new, empty in-memory PGlite database, as `PGlite.create()` gives, only faster. */
export async function createEmptyPglite(): Promise<PGlite> {
  return PGlite.create({ loadDataDir: new Blob([await emptyClusterDump()]), ...PGLITE_OPTIONS });
}

/**
 * The PGlite database kept in `dataDir`: opened as it is when it exists, created from the empty
 * cluster when the directory holds none yet (a first start).
 */
export async function openPgliteDir(dataDir: string): Promise<PGlite> {
  const early = openingEarly.get(resolve(dataDir));
  if (early) {
    openingEarly.delete(resolve(dataDir));
    return early;
  }
  return openNow(dataDir);
}

async function openNow(dataDir: string): Promise<PGlite> {
  await preparing;
  if (existsSync(join(dataDir, 'PG_VERSION'))) return PGlite.create(dataDir, PGLITE_OPTIONS);
  return PGlite.create(dataDir, { loadDataDir: new Blob([await emptyClusterDump()]), ...PGLITE_OPTIONS });
}

/**
 * Writes the files of a dump (an uncompressed tar as PGlite's `dumpDataDir('none')` writes it:
 * directories and regular files, paths from the cluster's root) under `dir`. What PGlite's
 * `loadDataDir` does before it starts Postgres on them, without starting it: the database opened
 * there next starts as it would have. Throws on anything else in the archive.
 */
function unpackCluster(dump: Uint8Array, dir: string): void {
  const text = (from: number, length: number) => {
    const bytes = dump.subarray(from, from + length);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  };
  mkdirSync(dir, { recursive: true });
  for (let at = 0; at + 512 <= dump.length; ) {
    if (dump[at] === 0) break;
    const prefix = text(at + 345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${text(at, 100)}`;
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(dump[at + 156] || 48);
    const path = resolve(dir, `.${name.startsWith('/') ? '' : '/'}${name}`);
    if (path !== dir && !path.startsWith(dir + sep)) throw new Error(`unexpected path in the empty cluster: ${name}`);
    const body = at + 512;
    if (type === '5') mkdirSync(path, { recursive: true });
    else if (type === '0') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, dump.subarray(body, body + size));
    } else throw new Error(`unexpected entry type ${type} in the empty cluster: ${name}`);
    at = body + Math.ceil(size / 512) * 512;
  }
  if (!existsSync(join(dir, 'PG_VERSION'))) throw new Error('no PG_VERSION in the empty cluster');
}

/**
 * Unpacks the empty cluster into `dir` under a temporary name renamed into place, so an interrupted
 * start never leaves a half-made cluster behind. Best effort: what fails here, openNow makes.
 */
function makeClusterDir(dump: Uint8Array, dir: string): void {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const staging = `${dir}.init-${process.pid}`;
  try {
    rmSync(staging, { recursive: true, force: true });
    unpackCluster(dump, staging);
    // Another process may have made it meanwhile: theirs stays.
    if (existsSync(dir) && readdirSync(dir).length > 0) return;
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch {
    // openNow loads the dump through PGlite instead.
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The initdb, in a process of its own, run with ONE_SHOT_WASM_NODE_FLAGS (one-shot-wasm.ts): about
 * half the CPU of an initdb in this process, whose databases keep V8's optimizing compiler. Plain
 * JavaScript handed over as source, so it runs the same under tsx, vitest and from a compiled
 * build, with no loader in between; the dump comes back on its stdout.
 */
const INITDB_CHILD = `
const [pglite, options] = process.argv.slice(1);
(async () => {
  const { PGlite } = await import(pglite);
  const template = await PGlite.create(JSON.parse(options));
  const dump = new Uint8Array(await (await template.dumpDataDir('none')).arrayBuffer());
  await template.close();
  process.stdout.write(dump);
})().catch((error) => {
  process.stderr.write(String((error && error.stack) || error));
  process.exitCode = 1;
});
`;

/** The dump of an empty cluster made by INITDB_CHILD; undefined when that process fails (the caller makes it here). */
export function initdbInChild(): Promise<Uint8Array | undefined> {
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  return new Promise((done) => {
    const child = spawn(process.execPath, [...ONE_SHOT_WASM_NODE_FLAGS, '-e', INITDB_CHILD, pglite, JSON.stringify(PGLITE_OPTIONS)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', () => done(undefined));
    child.once('close', (code) => done(code === 0 ? new Uint8Array(Buffer.concat(chunks)) : undefined));
  });
}

let preparing: Promise<void> | undefined;

/**
 * Makes an empty cluster in each of `dataDirs` that holds none yet: at once from the cached dump,
 * or once a process of its own has made the dump. Returns at once. Best effort: what is not made
 * here, `openPgliteDir` makes itself.
 */
export function prepareEmptyPgliteDirs(dataDirs: string[]): void {
  const missing = dataDirs.map((d) => resolve(d)).filter((dir) => !existsSync(join(dir, 'PG_VERSION')));
  if (missing.length === 0 || preparing) return;
  preparing = emptyClusterDump().then(
    (bytes) => {
      for (const dir of missing) makeClusterDir(bytes, dir);
    },
    () => {},
  );
}

const openingEarly = new Map<string, Promise<PGlite>>();

/**
 * Starts opening the databases in `dataDirs`, one after another in that order (once
 * `prepareEmptyPgliteDirs` has made the new ones), and returns at once: the process goes on loading
 * its modules, and PGlite's start fills the moments this thread would wait for them. The first
 * `openPgliteDir` of each directory takes its database; a failed open fails that call as it would
 * have failed itself.
 */
export function openPgliteDirsEarly(dataDirs: string[]): void {
  let previous: Promise<unknown> = Promise.resolve();
  for (const dir of dataDirs.map((d) => resolve(d))) {
    if (openingEarly.has(dir)) continue;
    const opening = previous.then(() => {
      mkdirSync(dir, { recursive: true });
      return openNow(dir);
    });
    // Handled by whoever takes it; until then a failure is not an unhandled rejection.
    opening.catch(() => {});
    openingEarly.set(dir, opening);
    previous = opening.catch(() => {});
  }
}
