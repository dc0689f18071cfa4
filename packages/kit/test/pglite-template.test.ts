/**
 * The empty cluster every new PGlite database is made from (packages/kit/src/tooling/pglite-template.ts):
 * made by an initdb in a process of its own (run with V8's baseline compiler only), and a database
 * made from it, in memory or in a directory, is a working Postgres.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { initdbInChild, PGLITE_OPTIONS } from '../src/tooling/pglite-template.ts';
import { openPgliteDir, prepareEmptyPgliteDirs } from '../src/tooling/index.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the empty PGlite cluster', () => {
  it('is made by an initdb in a child process, and a database loaded from it answers', { timeout: 60_000 }, async () => {
    const dump = await initdbInChild();
    expect(dump).toBeInstanceOf(Uint8Array);
    // A tar of the cluster's files: PG_VERSION is among them.
    expect(Buffer.from(dump!).includes('PG_VERSION')).toBe(true);
    const db = await PGlite.create({ loadDataDir: new Blob([dump!]), ...PGLITE_OPTIONS });
    try {
      await db.exec('CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1), (2)');
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 2 }]);
    } finally {
      await db.close();
    }
  });

  it('is unpacked into a new data directory that then opens as a database and keeps what is written', { timeout: 60_000 }, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'campus-pglite-dir-')), 'pglite');
    dirs.push(dir);
    prepareEmptyPgliteDirs([dir]);
    const db = await openPgliteDir(dir);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    await db.exec('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$after a restart$$)');
    await db.close();
    const reopened = await openPgliteDir(dir);
    try {
      expect((await reopened.query('SELECT v FROM kept')).rows).toEqual([{ v: 'after a restart' }]);
    } finally {
      await reopened.close();
    }
  });
});
