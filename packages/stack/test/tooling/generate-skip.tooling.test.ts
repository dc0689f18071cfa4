/**
 * `npm run generate` skips what is current and regenerates what is not (scripts/generate.ts,
 * docs/builds.md), in a copy of the repository: the first run generates everything, a second
 * does nothing, a changed schema regenerates that subgraph's code and the supergraphs only, and a
 * deleted output comes back.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepository, type RepoCopy } from './repo-copy.ts';

let repo: RepoCopy | undefined;
const generate = (...args: string[]) =>
  execFileSync('npm', ['run', '-s', 'generate', ...(args.length ? ['--', ...args] : [])], { cwd: repo!.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  repo = copyRepository('generate');
});
afterAll(() => repo?.remove());

describe('npm run generate', () => {
  it('generates on a fresh copy, then skips while nothing changed', () => {
    const first = generate();
    expect(first).toContain('generating users: Prisma client (never generated here)');
    expect(first).toContain('composing the supergraphs');
    for (const file of ['subgraphs/users/src/generated/prisma/client.ts', 'subgraphs/courses/src/generated/graphql.ts', 'router/supergraph.graphql']) {
      expect(existsSync(join(repo!.dir, file)), file).toBe(true);
    }
    expect(generate()).toBe('');
  }, 300_000);

  it('regenerates what a changed schema shapes, and nothing else', () => {
    appendFileSync(join(repo!.dir, 'subgraphs/courses/schema.graphql'), '\nextend type Query { generationProbe: Int }\n');
    const out = generate();
    expect(out).toContain('generating courses: resolver types (inputs changed)');
    expect(out).toContain('composing the supergraphs (inputs changed)');
    expect(out).not.toContain('Prisma client');
    expect(out).not.toMatch(/generating (users|payments)/);
    expect(readFileSync(join(repo!.dir, 'subgraphs/courses/src/generated/graphql.ts'), 'utf8')).toContain('generationProbe');
    expect(readFileSync(join(repo!.dir, 'router/supergraph.graphql'), 'utf8')).toContain('generationProbe');
  }, 300_000);

  it('regenerates a missing output, and everything with --force', () => {
    rmSync(join(repo!.dir, 'subgraphs/payments/src/generated/prisma/client.ts'));
    expect(generate()).toContain('generating payments: Prisma client (prisma/client.ts is missing)');
    expect(existsSync(join(repo!.dir, 'subgraphs/payments/src/generated/prisma/client.ts'))).toBe(true);
    expect(generate()).toBe('');
    const forced = generate('--force');
    expect(forced.match(/generating/g)).toHaveLength(6);
  }, 300_000);
});
