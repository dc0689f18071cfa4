import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Supergraph } from '../src/planning/federation-adapter.mjs';
import { describe, expect, it } from 'vitest';
import { composeSupergraph, CompositionError, readSupergraphConfig } from '../src/compose.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('composition', () => {
  it('composes the real subgraph schemas named in supergraph.yaml', () => {
    const sources = readSupergraphConfig(join(root, 'supergraph.yaml'));
    expect(sources.map((s) => s.name)).toContain('users');
    const sdl = composeSupergraph(sources);
    const schema = Supergraph.build(sdl).apiSchema();
    expect(schema.type('User')).toBeDefined();
    expect(sdl).toContain('@join__graph(name: "users", url: "http://localhost:4001/graphql")');
  });

  it('reports composition errors readably and `npm run compose` exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    const a = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { a: Thing }\ntype Thing @key(fields: "id") { id: ID! size: Int }';
    const b = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { b: Thing }\ntype Thing @key(fields: "id") { id: ID! size: String }';
    writeFileSync(join(dir, 'a.graphql'), a);
    writeFileSync(join(dir, 'b.graphql'), b);
    writeFileSync(
      join(dir, 'supergraph.yaml'),
      'federation_version: =2.7.0\nsubgraphs:\n  a:\n    routing_url: http://a/graphql\n    schema:\n      file: ./a.graphql\n  b:\n    routing_url: http://b/graphql\n    schema:\n      file: ./b.graphql\n',
    );
    expect(() => composeSupergraph(readSupergraphConfig(join(dir, 'supergraph.yaml')))).toThrow(CompositionError);
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(root, 'scripts/compose.ts'), '--config', join(dir, 'supergraph.yaml'), '--out', join(dir, 'out.graphql')], { encoding: 'utf8', cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Composition failed:\n {2}- .*Thing\.size/);
  });
});
