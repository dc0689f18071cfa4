// The skip logic of `npm run generate` (packages/kit/src/tooling/generation-stamp.ts), on real files in a temporary directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generationState, installedVersions, recordGeneration, type GenerationStep } from '@campus/kit/tooling';

let dir: string;
let step: GenerationStep;
/** A stand-in generator: writes one file per line of the schema into out/. */
const generate = () => {
  mkdirSync(join(dir, 'out', 'nested'), { recursive: true });
  writeFileSync(join(dir, 'out', 'client.ts'), 'export const client = 1;\n');
  writeFileSync(join(dir, 'out', 'nested', 'models.ts'), 'export type User = {};\n');
  recordGeneration(step);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'campus-generation-'));
  writeFileSync(join(dir, 'schema.prisma'), 'model User { id String @id }\n');
  writeFileSync(join(dir, 'codegen.ts'), 'export default {};\n');
  step = {
    inputs: [join(dir, 'schema.prisma'), join(dir, 'codegen.ts')],
    extra: { prisma: '7.10.1' },
    outputs: [join(dir, 'out')],
    stampFile: join(dir, 'out', '.stamp.json'),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('generationState', () => {
  it('is stale before the first run and fresh right after it', () => {
    expect(generationState(step)).toEqual({ fresh: false, reason: 'never generated here' });
    generate();
    expect(generationState(step)).toEqual({ fresh: true });
  });

  it('is stale when an input file changes, and fresh again once regenerated', () => {
    generate();
    writeFileSync(join(dir, 'schema.prisma'), 'model User { id String @id\n  name String }\n');
    expect(generationState(step)).toEqual({ fresh: false, reason: 'inputs changed' });
    generate();
    expect(generationState(step)).toEqual({ fresh: true });
  });

  it('is stale when an input file appears or disappears', () => {
    step.inputs.push(join(dir, 'later.graphql'));
    generate();
    writeFileSync(join(dir, 'later.graphql'), 'type Query { a: Int }\n');
    expect(generationState(step).fresh).toBe(false);
    generate();
    rmSync(join(dir, 'codegen.ts'));
    expect(generationState(step).fresh).toBe(false);
  });

  it('is stale when a tool version changes', () => {
    generate();
    expect(generationState({ ...step, extra: { prisma: '7.11.0' } })).toEqual({ fresh: false, reason: 'inputs changed' });
  });

  it('is stale when an output is missing or was edited', () => {
    generate();
    rmSync(join(dir, 'out', 'nested', 'models.ts'));
    expect(generationState(step)).toEqual({ fresh: false, reason: 'nested/models.ts is missing' });
    generate();
    writeFileSync(join(dir, 'out', 'client.ts'), 'export const client = 2;\n');
    expect(generationState(step)).toEqual({ fresh: false, reason: 'client.ts was changed' });
  });

  it('is stale when the whole output directory is gone, stamp included', () => {
    generate();
    rmSync(join(dir, 'out'), { recursive: true });
    expect(generationState(step).fresh).toBe(false);
  });

  it('is stale when the stamp is unreadable', () => {
    generate();
    writeFileSync(step.stampFile, '{ not json');
    expect(generationState(step)).toEqual({ fresh: false, reason: 'never generated here' });
  });

  it('does not count the stamp as an output, and ignores touches that keep the bytes', () => {
    generate();
    writeFileSync(join(dir, 'schema.prisma'), 'model User { id String @id }\n');
    expect(generationState(step)).toEqual({ fresh: true });
  });
});

describe('installedVersions', () => {
  it('reads the versions of installed packages and marks missing ones', () => {
    const versions = installedVersions(process.cwd(), ['graphql', 'no-such-package-campus']);
    expect(versions.graphql).toMatch(/^\d+\.\d+\.\d+/);
    expect(versions['no-such-package-campus']).toBe('absent');
  });
});
