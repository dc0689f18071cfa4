/**
 * How `npm start` runs TypeScript (packages/stack/src/run-typescript.mjs, typescript-mirror.mjs):
 * real node processes on sources written for the test, inside the repository so that they are
 * mirrored as the stack's own sources are. A source changed since the last run takes effect at
 * the next, imports of sources and of workspace packages reach the same modules as under tsx,
 * `import.meta` names the source, a stack trace names the TypeScript line, and a syntax error
 * stops the run with esbuild's message.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const RUNNER = join(REPO_ROOT, 'packages/stack/src/run-typescript.mjs');
const dir = join(import.meta.dirname, `.mirror-fixture-${process.pid}`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runTs(entry: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=source', RUNNER, join(dir, entry)], { cwd: REPO_ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm start runs TypeScript from its mirror', () => {
  it('runs a source with its imports, and picks up a change at the next run', async () => {
    writeFileSync(join(dir, 'greeting.ts'), "export const greeting: string = 'hello';\n");
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import { greeting } from './greeting.ts';",
        "import { parseEnv } from '@campus/kit/core';",
        "import { basename } from 'node:path';",
        'type Shown = { greeting: string; file: string; kit: string };',
        'const shown: Shown = { greeting, file: basename(import.meta.filename), kit: typeof parseEnv };',
        'console.log(JSON.stringify(shown));',
      ].join('\n'),
    );
    const first = await runTs('main.ts');
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toEqual({ greeting: 'hello', file: 'main.ts', kit: 'function' });

    writeFileSync(join(dir, 'greeting.ts'), "export const greeting: string = 'changed';\n");
    expect(JSON.parse((await runTs('main.ts')).stdout).greeting).toBe('changed');
  });

  it('names the TypeScript line in a stack trace', async () => {
    writeFileSync(
      join(dir, 'throws.ts'),
      ['interface Unused { a: number }', '', 'function fail(): never {', "  throw new Error('on purpose');", '}', 'try { fail(); } catch (e) { console.log((e as Error).stack); }'].join('\n'),
    );
    const { stdout, code } = await runTs('throws.ts');
    expect(code).toBe(0);
    expect(stdout).toContain('on purpose');
    expect(stdout).toMatch(/throws\.ts:4:\d+/);
  });

  it('stops with the source, the line and what is wrong when a source does not compile', async () => {
    writeFileSync(join(dir, 'broken.ts'), 'const x: number = ;\n');
    const { code, stderr } = await runTs('broken.ts');
    expect(code).toBe(1);
    expect(stderr).toContain('broken.ts:1');
  });
});
