/**
 * Generates one subgraph's code under src/generated/: its Prisma client (from prisma/schema.prisma)
 * and its resolver types (GraphQL Code Generator, from schema.graphql through codegen.ts).
 *
 * Offline: the Prisma CLI wants to download its schema-engine binary before it generates anything,
 * and this project's machines have no internet. `prisma generate` never runs the schema engine, so
 * pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies the check (docs/migrations.md).
 *
 * The codegen config is imported here rather than by the graphql-codegen CLI so that it resolves
 * @campus/kit/tooling to its sources like every other script (docs/builds.md): generation must
 * work on a fresh clone, before anything is compiled.
 *
 * Every file this script reads shapes the generated code, so each is an input of turbo's
 * `generate` task (turbo.json): change one and `npm run generate`, and with it typecheck and build,
 * runs again.
 *
 * Usage: tsx --conditions=source scripts/generate.ts <service>
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate, type CodegenConfig } from '@graphql-codegen/cli';

const root = resolve(import.meta.dirname, '..');
const service = process.argv[2];
const dir = join(root, 'subgraphs', service ?? '');
const schema = join(dir, 'prisma', 'schema.prisma');
if (!service || !existsSync(schema)) {
  console.error(`usage: generate <service>  (no schema at ${schema})`);
  process.exit(1);
}

const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
const prisma = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
if (prisma.status !== 0) process.exit(prisma.status ?? 1);

const config = ((await import(pathToFileURL(join(dir, 'codegen.ts')).href)) as { default: CodegenConfig }).default;
await generate({ ...config, cwd: dir }, true);
