/**
 * npm run generate [-- --force]        every subgraph, then the supergraphs
 * tsx scripts/generate.ts <service>    one subgraph (its package's `generate` script)
 * generate({ only: 'prisma' })         the Prisma clients alone: what `npm start` runs on (scripts/start.ts)
 *
 * Writes each subgraph's code under src/generated/ (its Prisma client, from prisma/schema.prisma,
 * and its resolver types, GraphQL Code Generator from schema.graphql through codegen.ts) and, with
 * no service named, composes router/supergraph.graphql and deploy/k8s/base/supergraph.graphql as
 * `npm run compose` does (scripts/compose.ts).
 *
 * Each of these steps runs only when its inputs changed: a stamp beside its outputs records the
 * digest of every file that shapes them plus the versions of the tools that write them, and the
 * sha256 of each file written (packages/kit/src/tooling/generation-stamp.ts). A changed input, a
 * new tool version, a missing or edited output, or `--force` runs the step again; otherwise it is
 * skipped without loading Prisma, the code generator or composition (docs/builds.md).
 *
 * Offline: the Prisma CLI wants to download its schema-engine binary before it generates anything,
 * and this project's machines have no internet. `prisma generate` never runs the schema engine, so
 * pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies the check (docs/migrations.md).
 *
 * The codegen config is imported here rather than by the graphql-codegen CLI so that it resolves
 * @campus/kit/tooling to its sources like every other script (docs/builds.md): generation must
 * work on a fresh clone, before anything is compiled.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generationState, installedVersions, ONE_SHOT_WASM_NODE_FLAGS, recordGeneration, type GenerationStep } from '@campus/kit/tooling';
import type { CodegenConfig } from '@graphql-codegen/cli';

const root = resolve(import.meta.dirname, '..');
const THIS_SCRIPT = join(root, 'scripts', 'generate.ts');

const allServices = readdirSync(join(root, 'subgraphs'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, 'subgraphs', e.name, 'prisma', 'schema.prisma')))
  .map((e) => e.name)
  .sort();

/** The Prisma client: prisma/schema.prisma -> src/generated/prisma/. */
function prismaStep(dir: string): GenerationStep {
  return {
    inputs: [join(dir, 'prisma', 'schema.prisma'), join(dir, 'package.json'), THIS_SCRIPT],
    extra: installedVersions(dir, ['prisma', '@prisma/client']),
    outputs: [join(dir, 'src', 'generated', 'prisma')],
    stampFile: join(dir, 'src', 'generated', '.prisma.stamp.json'),
  };
}

/** Resolver types: schema.graphql through codegen.ts -> src/generated/graphql.ts. */
function codegenStep(dir: string): GenerationStep {
  return {
    inputs: [
      join(dir, 'schema.graphql'),
      join(dir, 'codegen.ts'),
      join(dir, 'package.json'),
      join(root, 'packages', 'kit', 'src', 'tooling', 'codegen.ts'),
      THIS_SCRIPT,
    ],
    extra: installedVersions(dir, ['@graphql-codegen/cli', '@graphql-codegen/typescript', '@graphql-codegen/typescript-resolvers', 'graphql']),
    outputs: [join(dir, 'src', 'generated', 'graphql.ts')],
    stampFile: join(dir, 'src', 'generated', '.codegen.stamp.json'),
  };
}

/** The supergraphs `npm run compose` writes (scripts/compose.ts), from every subgraph's schema. */
const composeTargets = [
  { config: join(root, 'supergraph.yaml'), out: join(root, 'router', 'supergraph.graphql') },
  { config: join(root, 'deploy', 'supergraph.yaml'), out: join(root, 'deploy', 'k8s', 'base', 'supergraph.graphql') },
].filter(({ config, out }) => existsSync(config) && existsSync(dirname(out)));

function composeStep(): GenerationStep {
  const router = join(root, 'router');
  return {
    inputs: [
      ...composeTargets.map((t) => t.config),
      ...allServices.map((s) => join(root, 'subgraphs', s, 'schema.graphql')),
      ...['compose.ts', 'planning/federation-adapter.mjs'].map((f) => join(router, 'src', f)),
      join(router, 'package.json'),
      THIS_SCRIPT,
    ],
    extra: installedVersions(router, ['@apollo/composition', '@apollo/federation-internals', 'graphql', 'yaml']),
    outputs: composeTargets.map((t) => t.out),
    // Not in git and not under an output directory: kept with the other tools' caches.
    stampFile: join(root, 'node_modules', '.cache', 'campus-generate', 'compose.stamp.json'),
  };
}

/**
 * The Prisma CLI generates one schema per run, and loading it is most of a run: about 2.7 s of CPU
 * of each `prisma generate`. So one process runs it for every stale schema: the CLI is loaded for
 * each anew (Node's module cache emptied; it reads its arguments when it loads), which costs a
 * fraction of the first load, and the runs go on side by side. Plain CommonJS handed to `node -e`:
 * the CLI is CommonJS and needs no loader.
 */
const PRISMA_GENERATE_EACH = `
const [cli, ...schemas] = process.argv.slice(1);
for (const schema of schemas) {
  process.argv = [process.argv[0], cli, 'generate', '--schema', schema];
  for (const key of Object.keys(require.cache)) delete require.cache[key];
  require(cli);
}
`;

function runPrisma(dirs: string[]): Promise<void> {
  const schemas = dirs.map((dir) => join(dir, 'prisma', 'schema.prisma'));
  // Prisma refuses to write over a client it does not recognise (one with a file missing); the
  // directory holds nothing but its output, so it starts empty.
  for (const dir of dirs) rmSync(join(dir, 'src', 'generated', 'prisma'), { recursive: true, force: true });
  const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  // The CLI's schema WebAssembly runs for a moment, once (packages/kit/src/tooling/one-shot-wasm.ts).
  const child = spawn(process.execPath, [...ONE_SHOT_WASM_NODE_FLAGS, '-e', PRISMA_GENERATE_EACH, prismaCli, ...schemas], {
    cwd: root,
    // Its progress lines ("Prisma schema loaded from ...") are noise on every start; shown on failure.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => (code === 0 ? done() : fail(new Error(`prisma generate --schema ${schemas.join(' ')} exited with ${code}:\n${output.trim()}`))));
  });
}

async function runCodegen(dir: string): Promise<void> {
  const { generate } = await import('@graphql-codegen/cli');
  const config = ((await import(pathToFileURL(join(dir, 'codegen.ts')).href)) as { default: CodegenConfig }).default;
  await generate({ ...config, cwd: dir }, true);
}

async function runCompose(): Promise<void> {
  const { composeSupergraph, readSupergraphConfig } = await import('@campus/router/compose');
  for (const { config, out } of composeTargets) {
    writeFileSync(out, composeSupergraph(readSupergraphConfig(config)));
    console.log(`composed ${config} -> ${out}`);
  }
}

export interface GenerateOptions {
  /** Subgraphs to generate for; absent = every subgraph, then the supergraphs. */
  services?: string[];
  /** Every step, current or not. */
  force?: boolean;
  /**
   * 'prisma': the Prisma clients only, what running the sources needs (`npm start`): the resolver
   * types are imported as types alone, which tsx drops, and the stack composes its own supergraph.
   */
  only?: 'prisma';
}

/** Runs every step that is not current; resolves with one message per failed step (none: all done). */
export async function generate({ services = allServices, force = false, only }: GenerateOptions = {}): Promise<string[]> {
  const unknown = services.filter((s) => !allServices.includes(s));
  if (unknown.length) return unknown.map((s) => `no schema at ${join(root, 'subgraphs', s, 'prisma', 'schema.prisma')}`);
  const stale = (step: GenerationStep): string | undefined => {
    if (force) return 'forced';
    const state = generationState(step);
    return state.fresh ? undefined : state.reason;
  };
  const everything = services === allServices && !only;

  const work: Promise<void>[] = [];
  const prismas: { dir: string; step: GenerationStep }[] = [];
  const codegens: { service: string; dir: string; step: GenerationStep }[] = [];
  for (const service of services) {
    const dir = join(root, 'subgraphs', service);
    const prisma = prismaStep(dir);
    const prismaWhy = stale(prisma);
    if (prismaWhy) {
      console.log(`generating ${service}: Prisma client (${prismaWhy})`);
      prismas.push({ dir, step: prisma });
    }
    if (only === 'prisma') continue;
    const codegen = codegenStep(dir);
    const codegenWhy = stale(codegen);
    if (codegenWhy) {
      console.log(`generating ${service}: resolver types (${codegenWhy})`);
      codegens.push({ service, dir, step: codegen });
    }
  }
  // The Prisma clients in a process of their own (runPrisma), beside the code generator and
  // composition in this one.
  if (prismas.length) work.push(runPrisma(prismas.map((p) => p.dir)).then(() => prismas.forEach((p) => recordGeneration(p.step))));
  work.push(
    (async () => {
      for (const { dir, step } of codegens) {
        await runCodegen(dir);
        recordGeneration(step);
      }
    })(),
  );
  if (everything) {
    const compose = composeStep();
    const composeWhy = stale(compose);
    if (composeWhy) {
      work.push(
        (async () => {
          console.log(`composing the supergraphs (${composeWhy})`);
          await runCompose();
          recordGeneration(compose);
        })(),
      );
    }
  }

  const failures = (await Promise.allSettled(work)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return failures.map(({ reason }) => {
    const e = reason as Error & { errors?: unknown };
    return e.name === 'CompositionError' ? e.message : `generate: ${e.message ?? String(e)}`;
  });
}

// As a command (npm run generate, a subgraph's `generate` script); scripts/start.ts imports it.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const named = argv.filter((a) => !a.startsWith('--'));
  for (const service of named) {
    if (!allServices.includes(service)) {
      console.error(`usage: generate [<service>] [--force]  (no schema at ${join(root, 'subgraphs', service, 'prisma', 'schema.prisma')})`);
      process.exit(1);
    }
  }
  const failures = await generate({ ...(named.length ? { services: named } : {}), force: argv.includes('--force') });
  if (failures.length) {
    for (const failure of failures) console.error(failure);
    process.exit(1);
  }
}
