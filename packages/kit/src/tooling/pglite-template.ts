/**
 * PGlite databases that start fast. A fresh cluster costs PGlite an initdb (about 3.5 s of
 * WebAssembly on a 2-core machine); loading a dump of an empty one costs about 1 s. So a process
 * runs initdb at most once: the first new database it needs is dumped empty, and every new
 * database after it (tests open dozens in memory, the schema engine one per diff, the embedded
 * default three on its first start) loads that dump, then applies its own migrations.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  if (existsSync(join(dataDir, 'PG_VERSION'))) return PGlite.create(dataDir);
  return PGlite.create(dataDir, { loadDataDir: await emptyClusterDump() });
}
