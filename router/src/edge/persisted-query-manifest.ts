/**
 * Persisted-query manifests in Apollo's format (what `@apollo/generate-persisted-query-manifest`
 * writes and GraphOS persisted-query lists publish):
 *
 *   { "format": "apollo-persisted-query-manifest", "version": 1,
 *     "operations": [{ "id": "<sha256 of body>", "name": "Catalog", "type": "query", "body": "..." }] }
 *
 * One module for the three places that handle them, so they cannot disagree on what a body or an
 * id is: the router reads one (edge/trusted-documents.ts), scripts/build-persisted-queries.ts
 * writes one from .graphql files, and router/test/persisted-queries.test.ts checks the shipped one.
 */
import { createHash } from 'node:crypto';
import { Supergraph } from '../planning/federation-adapter.mjs';
import {
  Kind,
  parse,
  print,
  specifiedRules,
  stripIgnoredCharacters,
  validate,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { z } from 'zod';

export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

const operationSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  type: z.enum(['query', 'mutation', 'subscription']),
  body: z.string().min(1),
  clientName: z.string().optional(),
});

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(1),
  operations: z.array(operationSchema),
});

export type ManifestOperation = z.infer<typeof operationSchema>;
export type PersistedQueryManifest = z.infer<typeof manifestSchema>;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The form two texts of the same operation share whatever their whitespace, commas and comments:
 * a client that reformats a listed operation (or copies one from README.md with its comments) is
 * still running that operation. Lexing only, no parse: it runs before the operation limits have
 * bounded the parser's work. Undefined for text that does not even lex.
 */
export function canonicalHash(query: string): string | undefined {
  try {
    return sha256(stripIgnoredCharacters(query));
  } catch {
    return undefined;
  }
}

/** Parses and checks a manifest; the message names what is wrong, for a router that refuses to start. */
export function parseManifest(json: string): PersistedQueryManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  const ids = new Set<string>();
  for (const op of parsed.data.operations) {
    if (ids.has(op.id)) throw new Error(`operation id ${op.id} appears twice`);
    ids.add(op.id);
  }
  return parsed.data;
}

/** The supergraph's API schema: what clients see, and what their operations must validate against. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

export interface OperationSource {
  /** Where the text comes from, for error messages. */
  path: string;
  text: string;
}

/**
 * Builds a manifest from .graphql files: every named operation becomes one entry whose body is the
 * operation followed by the fragments it uses (fragments may live in any of the files), printed by
 * graphql-js so the body does not depend on how the file was formatted. Entries are sorted by name
 * so the file diffs cleanly. With a schema, every operation must validate against it.
 */
export function buildManifest(sources: readonly OperationSource[], schema?: GraphQLSchema): PersistedQueryManifest {
  const operations: { node: OperationDefinitionNode; path: string }[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { path, text } of sources) {
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        // The manifest's `name` identifies the operation in logs and in GraphOS; an anonymous one
        // could not be told apart from the next.
        if (!definition.name) throw new Error(`${path}: every operation needs a name (found an anonymous ${definition.operation})`);
        operations.push({ node: definition, path });
      } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(definition.name.value)) throw new Error(`${path}: fragment ${definition.name.value} is defined twice`);
        fragments.set(definition.name.value, definition);
      } else {
        throw new Error(`${path}: only operations and fragments belong in an operations file`);
      }
    }
  }

  const seen = new Map<string, string>();
  const entries: ManifestOperation[] = [];
  for (const { node, path } of operations) {
    const name = node.name!.value;
    if (seen.has(name)) throw new Error(`${path}: operation ${name} is also defined in ${seen.get(name)}`);
    seen.set(name, path);
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [node, ...fragmentsUsedBy(node, fragments, path)] };
    if (schema) {
      const errors = validate(schema, document, specifiedRules);
      if (errors.length) throw new Error(`${path}: operation ${name} does not validate against the supergraph: ${errors.map((e) => e.message).join('; ')}`);
    }
    const body = print(document);
    entries.push({ id: sha256(body), name, type: node.operation, body });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { format: MANIFEST_FORMAT, version: 1, operations: entries };
}

/** The fragments an operation spreads, transitively, sorted by name. */
function fragmentsUsedBy(node: OperationDefinitionNode, all: Map<string, FragmentDefinitionNode>, path: string): FragmentDefinitionNode[] {
  const used = new Map<string, FragmentDefinitionNode>();
  const pending: (OperationDefinitionNode | FragmentDefinitionNode)[] = [node];
  while (pending.length) {
    visit(pending.pop()!, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return;
        const fragment = all.get(name);
        if (!fragment) throw new Error(`${path}: fragment ${name} is used but defined in none of the files`);
        used.set(name, fragment);
        pending.push(fragment);
      },
    });
  }
  return [...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value));
}

/** The manifest as the shipped file holds it: two-space JSON and a final newline. */
export const serializeManifest = (manifest: PersistedQueryManifest) => `${JSON.stringify(manifest, null, 2)}\n`;
