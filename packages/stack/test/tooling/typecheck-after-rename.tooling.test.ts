/**
 * `npm run typecheck` cannot replay a stale pass (docs/builds.md): in a copy of the repository it
 * passes, then a Prisma field is renamed in a schema and nothing else, and the next
 * `npm run typecheck` must fail, naming the field the code still uses. Generation is an input of
 * the type-check (the generated client is not in git), so a type-check that skipped or replayed
 * it would pass here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { copyRepository, type RepoCopy } from './repo-copy.ts';

let repo: RepoCopy;
beforeAll(() => {
  repo = copyRepository('typecheck');
});
afterAll(() => repo?.remove());

function typecheck() {
  const run = spawnSync('npm', ['run', 'typecheck'], { cwd: repo.dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

test('renaming a Prisma field makes npm run typecheck fail, naming the field', () => {
  const before = typecheck();
  expect(before.output).not.toMatch(/error TS\d+/);
  expect(before.status).toBe(0);

  const schema = join(repo.dir, 'subgraphs/users/prisma/schema.prisma');
  const text = readFileSync(schema, 'utf8');
  expect(text).toMatch(/^\s+passwordHash\s+String/m);
  writeFileSync(schema, text.replace(/^(\s+)passwordHash(\s+String)/m, '$1passwordDigest$2'));

  const after = typecheck();
  expect(after.status).not.toBe(0);
  expect(after.output).toMatch(/subgraphs\/users\/src\/\S+\.ts.*error TS\d+:.*'passwordHash'/);
});
