/**
 * Composition of supergraph.yaml (Rover's config format) with @apollo/composition, so no Rover
 * binary is needed. Used by `npm run compose` and by the stack that tests start on free ports.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices } from './planning/federation-adapter.mjs';
import { parse } from 'graphql';
import YAML from 'yaml';

export interface SubgraphSource {
  name: string;
  url: string;
  sdl: string;
}

interface SupergraphYaml {
  federation_version?: string;
  subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
}

/** Reads supergraph.yaml and every schema file it names. */
export function readSupergraphConfig(configPath: string): SubgraphSource[] {
  const config = YAML.parse(readFileSync(configPath, 'utf8')) as SupergraphYaml;
  const entries = Object.entries(config.subgraphs ?? {});
  if (entries.length === 0) throw new Error(`${configPath} lists no subgraphs.`);
  return entries.map(([name, s]) => {
    if (!s.routing_url || !s.schema?.file) throw new Error(`${configPath}: subgraph "${name}" needs routing_url and schema.file.`);
    return { name, url: s.routing_url, sdl: readFileSync(resolve(dirname(configPath), s.schema.file), 'utf8') };
  });
}

export class CompositionError extends Error {
  constructor(readonly errors: string[]) {
    super(`Composition failed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'CompositionError';
  }
}

export function composeSupergraph(subgraphs: SubgraphSource[]): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors) throw new CompositionError(result.errors.map((e) => e.message));
  return result.supergraphSdl;
}
