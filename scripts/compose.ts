/**
 * npm run compose [-- --config supergraph.yaml --out router/supergraph.graphql]
 * Composes the subgraphs into the router's supergraph file; prints composition errors and exits 1.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { composeSupergraph, CompositionError, readSupergraphConfig } from '@campus/router/compose';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return resolve(i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback);
};
const configPath = arg('config', 'supergraph.yaml');
const out = arg('out', 'router/supergraph.graphql');

try {
  const sdl = composeSupergraph(readSupergraphConfig(configPath));
  writeFileSync(out, sdl);
  console.log(`composed ${configPath} -> ${out}`);
} catch (e) {
  console.error(e instanceof CompositionError ? e.message : `compose: ${(e as Error).message}`);
  process.exit(1);
}
