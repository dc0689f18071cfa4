/**
 * npm run build:persisted-queries [-- --operations router/operations --supergraph router/supergraph.graphql
 *                                    --out router/persisted-queries.json --check]
 *
 * Builds an Apollo persisted-query manifest (the router's trusted documents, TRUSTED_DOCUMENTS)
 * from every .graphql file under --operations, each operation validated against the supergraph.
 * --check writes nothing and exits 1 when --out is not what the files build (for CI).
 * Exits 1 with the file and the reason on an invalid operation.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { apiSchemaOf, buildManifest, serializeManifest } from '@campus/router/edge/persisted-query-manifest';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return resolve(i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback);
};
const operationsDir = arg('operations', 'router/operations');
const supergraphPath = arg('supergraph', 'router/supergraph.graphql');
const out = arg('out', 'router/persisted-queries.json');
const check = process.argv.includes('--check');

const graphqlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? graphqlFiles(join(dir, entry.name)) : /\.(graphql|gql)$/.test(entry.name) ? [join(dir, entry.name)] : []))
    .sort();

try {
  const files = graphqlFiles(operationsDir);
  if (!files.length) throw new Error(`no .graphql files under ${operationsDir}`);
  const manifest = buildManifest(
    files.map((path) => ({ path: relative(process.cwd(), path), text: readFileSync(path, 'utf8') })),
    apiSchemaOf(readFileSync(supergraphPath, 'utf8')),
  );
  const text = serializeManifest(manifest);
  if (check) {
    if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
      console.error(`${relative(process.cwd(), out)} is out of date: run npm run build:persisted-queries`);
      process.exit(1);
    }
    console.log(`${relative(process.cwd(), out)} is up to date (${manifest.operations.length} operations)`);
  } else {
    writeFileSync(out, text);
    console.log(`${files.length} files -> ${relative(process.cwd(), out)} (${manifest.operations.length} operations)`);
  }
} catch (e) {
  console.error(`build-persisted-queries: ${(e as Error).message}`);
  process.exit(1);
}
