/**
 * Generation that runs only when its inputs changed (scripts/generate.ts, docs/builds.md).
 *
 * A generator step names the files whose bytes shape its output (a Prisma schema, an SDL, the
 * codegen config, the generator script itself) and the versions of the tools that write it. After a
 * run, a stamp file beside the outputs records the digest of those inputs and the sha256 of every
 * file the step wrote. The next run skips the step only when the digest is the same and every
 * recorded output is still there, byte for byte: a changed input, a new tool version, a deleted
 * or edited output, or a missing stamp each mean "generate again".
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

export interface GenerationStep {
  /** Files whose bytes shape the outputs; a missing one counts (as absent) rather than failing. */
  inputs: string[];
  /** Anything else that shapes the outputs, e.g. tool versions (`installedVersions`). */
  extra?: Record<string, string>;
  /** Files or directories the step writes; a directory stands for every file under it. */
  outputs: string[];
  /** Where the stamp is kept (JSON); not itself an output. */
  stampFile: string;
}

interface Stamp {
  version: 1;
  inputs: string;
  /** Output file (relative to the stamp's directory) -> sha256 of its bytes. */
  outputs: Record<string, string>;
}

export type GenerationState = { fresh: true } | { fresh: false; reason: string };

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** The digest of a step's inputs: each file's path (relative to `root`) and bytes, then `extra`. */
export function inputsDigest(step: Pick<GenerationStep, 'inputs' | 'extra' | 'stampFile'>): string {
  const root = dirname(resolve(step.stampFile));
  const hash = createHash('sha256');
  for (const file of step.inputs) {
    const path = resolve(file);
    hash.update(`file\0${relative(root, path)}\0`);
    hash.update(existsSync(path) ? `${sha256(readFileSync(path))}\0` : 'absent\0');
  }
  for (const [key, value] of Object.entries(step.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(`extra\0${key}\0${value}\0`);
  }
  return hash.digest('hex');
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => filesUnder(join(path, entry.name)));
}

function readStamp(stampFile: string): Stamp | undefined {
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
    return stamp.version === 1 && typeof stamp.inputs === 'string' && stamp.outputs && typeof stamp.outputs === 'object' ? stamp : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a step's outputs are current: same inputs as when they were written, and untouched since. */
export function generationState(step: GenerationStep): GenerationState {
  const stamp = readStamp(step.stampFile);
  if (!stamp) return { fresh: false, reason: 'never generated here' };
  if (stamp.inputs !== inputsDigest(step)) return { fresh: false, reason: 'inputs changed' };
  const root = dirname(resolve(step.stampFile));
  const recorded = Object.entries(stamp.outputs);
  if (recorded.length === 0) return { fresh: false, reason: 'no outputs recorded' };
  for (const [file, digest] of recorded) {
    const path = join(root, file);
    if (!existsSync(path)) return { fresh: false, reason: `${file} is missing` };
    if (sha256(readFileSync(path)) !== digest) return { fresh: false, reason: `${file} was changed` };
  }
  // Every declared output must have been seen at least once (e.g. a file output deleted before the stamp was written).
  for (const output of step.outputs) {
    if (!existsSync(output)) return { fresh: false, reason: `${relative(root, resolve(output))} is missing` };
  }
  return { fresh: true };
}

/** Records a successful run: call it right after the step wrote its outputs. */
export function recordGeneration(step: GenerationStep): void {
  const root = dirname(resolve(step.stampFile));
  const stampPath = resolve(step.stampFile);
  const outputs: Record<string, string> = {};
  for (const file of step.outputs.flatMap((output) => filesUnder(resolve(output))).sort()) {
    if (file === stampPath) continue;
    outputs[relative(root, file)] = sha256(readFileSync(file));
  }
  const stamp: Stamp = { version: 1, inputs: inputsDigest(step), outputs };
  mkdirSync(root, { recursive: true });
  writeFileSync(stampPath, `${JSON.stringify(stamp, null, 1)}\n`);
}

/**
 * `{ name: version }` of installed packages, as resolved from `fromDir`: a generator's output
 * changes with its version, so a stamp must too. A package that is not installed reads "absent".
 */
export function installedVersions(fromDir: string, packages: string[]): Record<string, string> {
  const require = createRequire(join(resolve(fromDir), 'noop.js'));
  return Object.fromEntries(
    packages.map((name) => {
      try {
        return [name, (require(`${name}/package.json`) as { version: string }).version];
      } catch {
        // Packages whose exports map hides package.json: find it beside the resolved entry.
        try {
          let dir = dirname(require.resolve(name));
          while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
            const up = dirname(dir);
            if (up === dir) return [name, 'absent'];
            dir = up;
          }
          return [name, (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version];
        } catch {
          return [name, 'absent'];
        }
      }
    }),
  );
}
