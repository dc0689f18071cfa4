/**
 * PGlite databases that start fast. A fresh cluster costs PGlite an initdb (about 3.5 s of
 * WebAssembly on a 2-core machine); loading a dump of an empty one costs about 1 s. So a process
 * runs initdb at most once: the first new database it needs is dumped empty, and every new
 * database after it (tests open dozens in memory, the schema engine one per diff, the embedded
 * default three on its first start) loads that dump, then applies its own migrations.
 *
 * A process that knows it will open new databases in directories (the embedded default's first
 * start, packages/stack/src/main.ts) can have them made on a worker thread while it is still
 * loading its modules: `prepareEmptyPgliteDirs` runs the initdb and unpacks the empty cluster into
 * each directory there, on the machine's other core. `openPgliteDir` waits for it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

let emptyCluster: Promise<File | Blob> | undefined;

function emptyClusterDump(): Promise<File | Blob> {
  emptyCluster ??= (async () => {
    const template = await PGlite.create();
    try {
      return await template.dumpDataDir('none');
    } finally {
      await template.close();
    }
  })();
  return emptyCluster;
}

/** A new, empty in-memory PGlite database, as `PGlite.create()` gives, only faster. */
export async function createEmptyPglite(): Promise<PGlite> {
  return PGlite.create({ loadDataDir: await emptyClusterDump() });
}

/**
 * The PGlite database kept in `dataDir`: opened as it is when it exists, created from the empty
 * cluster when the directory holds none yet (a first start).
 */
export async function openPgliteDir(dataDir: string): Promise<PGlite> {
  await preparing;
  if (existsSync(join(dataDir, 'PG_VERSION'))) return PGlite.create(dataDir);
  return PGlite.create(dataDir, { loadDataDir: await emptyClusterDump() });
}

// The worker is plain JavaScript handed over as source, so it runs the same under tsx, vitest and
// from a compiled build, with no loader in between. Each directory is made under a temporary name
// and renamed into place, so an interrupted start never leaves a half-made cluster behind.
const PREPARE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { existsSync, mkdirSync, readdirSync, renameSync, rmSync } = require('node:fs');
const { dirname, join } = require('node:path');
(async () => {
  const { PGlite } = await import(workerData.pglite);
  const template = await PGlite.create();
  const dump = await template.dumpDataDir('none');
  await template.close();
  for (const dir of workerData.dirs) {
    if (existsSync(join(dir, 'PG_VERSION'))) continue;
    const staging = dir + '.init-' + process.pid;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    const db = await PGlite.create(staging, { loadDataDir: dump });
    await db.close();
    if (existsSync(dir) && readdirSync(dir).length > 0) { rmSync(staging, { recursive: true, force: true }); continue; }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  parentPort.postMessage({ dump: new Uint8Array(await dump.arrayBuffer()) });
})().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
`;

let preparing: Promise<void> | undefined;

/**
 * Starts making an empty cluster in each of `dataDirs` that holds none yet, on a worker thread, and
 * returns at once. Best effort: if the worker fails, `openPgliteDir` makes what is missing itself.
 */
export function prepareEmptyPgliteDirs(dataDirs: string[]): void {
  const missing = dataDirs.filter((dir) => !existsSync(join(dir, 'PG_VERSION')));
  if (missing.length === 0 || preparing) return;
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  preparing = new Promise<void>((resolve) => {
    const worker = new Worker(PREPARE_WORKER, { eval: true, execArgv: [], workerData: { pglite, dirs: missing } });
    worker.once('message', (message: { dump?: Uint8Array; error?: string }) => {
      // The same empty cluster serves every other new database of this process.
      if (message.dump) emptyCluster ??= Promise.resolve(new Blob([message.dump]));
      void worker.terminate();
    });
    worker.once('error', () => resolve());
    worker.once('exit', () => resolve());
  });
}
