/**
 * Generates one service's Prisma client without touching the network.
 *
 * The Prisma CLI wants to download its schema-engine binary before it generates anything, and this
 * project's machines have no internet. `prisma generate` never runs the schema engine, so pointing
 * PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies the check (docs/migrations.md).
 *
 * Usage: tsx scripts/prisma-generate.ts <service>
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const service = process.argv[2];
const schema = join(root, 'subgraphs', service ?? '', 'prisma', 'schema.prisma');
if (!service || !existsSync(schema)) {
  console.error(`usage: prisma-generate <service>  (no schema at ${schema})`);
  process.exit(1);
}

const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
if (result.status !== 0) process.exit(result.status ?? 1);
