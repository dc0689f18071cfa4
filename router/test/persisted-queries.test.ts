/**
 * The shipped persisted-query manifest (router/persisted-queries.json): built from
 * router/operations/*.graphql, valid against the supergraph the subgraphs compose today, within
 * the router's default operation limits, and covering every operation README.md shows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, specifiedRules, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeSupergraph, readSupergraphConfig } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { operationLimits } from '../src/edge/limits.ts';
import {
  apiSchemaOf,
  buildManifest,
  canonicalHash,
  parseManifest,
  serializeManifest,
  sha256,
} from '../src/edge/persisted-query-manifest.ts';

const root = new URL('../../', import.meta.url).pathname;
const operationsDir = join(root, 'router/operations');
const shippedText = readFileSync(join(root, 'router/persisted-queries.json'), 'utf8');
const shipped = parseManifest(shippedText);
const operationFiles = () =>
  readdirSync(operationsDir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => ({ path: `router/operations/${f}`, text: readFileSync(join(operationsDir, f), 'utf8') }));

const operationsOf = (text: string) =>
  parse(text).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
const rootFields = (op: OperationDefinitionNode) =>
  op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));

describe('the shipped persisted-query manifest', () => {
  it('is what router/operations builds (run npm run build:persisted-queries after editing them)', () => {
    expect(shippedText).toBe(serializeManifest(buildManifest(operationFiles())));
  });

  it('has ids that are the sha256 of each body, as Apollo clients compute them', () => {
    for (const op of shipped.operations) expect(op.id, op.name).toBe(sha256(op.body));
  });

  it('holds only operations that validate against the supergraph and pass the default operation limits', () => {
    const schema = apiSchemaOf(composeSupergraph(readSupergraphConfig(join(root, 'supergraph.yaml'))));
    const limits = operationLimits(loadConfig({}).limits);
    for (const op of shipped.operations) {
      limits.checkSource({ query: op.body });
      const errors = validate(schema, parse(op.body, limits.parseOptions), [...specifiedRules, ...limits.validationRules]);
      expect(errors.map((e) => e.message), op.name).toEqual([]);
    }
  });

  it('lists every operation of README.md as the README writes it', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const listed = new Set(shipped.operations.map((op) => canonicalHash(op.body)));
    const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const named = blocks.flatMap((block) => operationsOf(block).map((op) => ({ name: op.name?.value, text: block.slice(op.loc!.start, op.loc!.end) })));
    expect(named.length).toBeGreaterThanOrEqual(11);
    for (const { name, text } of named) expect(listed.has(canonicalHash(text)), `README operation ${name}`).toBe(true);
  });

  it('lists a named operation for each root field of README.md\'s curl samples (anonymous, values inline)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const samples = [...readme.matchAll(/-d '(\{[\s\S]*?\})'/g)].map((m) => (JSON.parse(m[1]!) as { query: string }).query);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    const listedFields = new Set(shipped.operations.flatMap((op) => operationsOf(op.body).flatMap((o) => rootFields(o).map((f) => `${o.operation} ${f}`))));
    for (const sample of samples) {
      for (const op of operationsOf(sample)) {
        for (const field of rootFields(op)) expect(listedFields.has(`${op.operation} ${field}`), `${op.operation} ${field}`).toBe(true);
      }
    }
  });
});

describe('buildManifest', () => {
  it('gives each operation the fragments it uses, wherever they are defined', () => {
    const manifest = buildManifest([
      { path: 'a.graphql', text: 'query A { me { ...Who } }' },
      { path: 'b.graphql', text: 'fragment Who on User { id ...Name }\nfragment Name on User { name }\nfragment Unused on User { email }' },
    ]);
    expect(manifest.operations).toHaveLength(1);
    const body = manifest.operations[0]!.body;
    expect(body).toContain('fragment Who on User');
    expect(body).toContain('fragment Name on User');
    expect(body).not.toContain('Unused');
  });

  it('refuses anonymous operations, duplicate names and missing fragments, naming the file', () => {
    expect(() => buildManifest([{ path: 'x.graphql', text: '{ me { id } }' }])).toThrow(/x\.graphql: every operation needs a name/);
    expect(() => buildManifest([
      { path: 'x.graphql', text: 'query A { me { id } }' },
      { path: 'y.graphql', text: 'query A { me { name } }' },
    ])).toThrow(/operation A is also defined in x\.graphql/);
    expect(() => buildManifest([{ path: 'x.graphql', text: 'query A { me { ...Gone } }' }])).toThrow(/fragment Gone is used but defined in none/);
  });

  it('refuses an operation that does not validate against the schema', () => {
    const schema = apiSchemaOf(composeSupergraph(readSupergraphConfig(join(root, 'supergraph.yaml'))));
    expect(() => buildManifest([{ path: 'x.graphql', text: 'query A { me { nope } }' }], schema)).toThrow(/x\.graphql: operation A does not validate/);
  });
});

describe('parseManifest', () => {
  it('refuses a file in another format, saying where', () => {
    expect(() => parseManifest('{"format":"relay","version":1,"operations":[]}')).toThrow(/format/);
    expect(() => parseManifest('not json')).toThrow(/not JSON/);
  });
});
