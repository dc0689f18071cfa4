/**
 * Operations the fast path (fast-path.ts) has already parsed and validated, per supergraph, keyed
 * by their text and name: what Apollo Server's document store does for its own pipeline, plus the
 * answer to "may the fast path run this one at all?".
 *
 * An operation is prepared with the same parser options and validation rules Apollo Server uses
 * (graphql-js's specified rules and the edge's limits), so a document valid here is valid there. Everything else is `unsupported` and left to
 * Apollo Server, which answers it exactly as before: documents that do not parse or validate (so
 * their errors are Apollo Server's), introspection (answered by the gateway itself), subscriptions
 * (graphql-ws), @defer and @stream, and an operation name the document lacks.
 *
 * Bounded: the oldest entry goes when the map is full, and a document longer than
 * MAX_PREPARED_QUERY_LENGTH is never kept (each would be parsed again; Apollo Server's own store
 * bounds itself by bytes the same way).
 */
import { createHash } from 'node:crypto';
import { BREAK, getOperationAST, parse, specifiedRules, validate, visit, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type ParseOptions, type ValidationRule } from 'graphql';

export type PreparedOperation =
  | {
      supported: true;
      document: DocumentNode;
      operation: OperationDefinitionNode;
      operationName: string | undefined;
      /** sha256 (hex) of the text, as Apollo Server's requestContext.queryHash. */
      queryHash: string;
    }
  | { supported: false };

export interface PreparedOperationsOptions {
  parseOptions: ParseOptions;
  validationRules: readonly ValidationRule[];
  maxEntries?: number;
}

const MAX_PREPARED_QUERY_LENGTH = 64 * 1024;
const UNSUPPORTED: PreparedOperation = { supported: false };

export interface PreparedOperations {
  /** The operation `query` names with `operationName`, prepared against `schema` (parsed and validated at most once per supergraph). */
  get(schema: GraphQLSchema, query: string, operationName: string | undefined): PreparedOperation;
}

export function preparedOperations(options: PreparedOperationsOptions): PreparedOperations {
  const maxEntries = options.maxEntries ?? 2_000;
  // Apollo Server adds a rule refusing introspection where it is off; introspection is never the
  // fast path's (unsupported below), so that rule would refuse nothing here.
  const rules = [...specifiedRules, ...options.validationRules];
  let forSchema: GraphQLSchema | undefined;
  let entries = new Map<string, PreparedOperation>();

  function prepare(schema: GraphQLSchema, query: string, operationName: string | undefined): PreparedOperation {
    let document: DocumentNode;
    try {
      document = parse(query, options.parseOptions);
    } catch {
      return UNSUPPORTED;
    }
    if (validate(schema, document, rules).length) return UNSUPPORTED;
    const operation = getOperationAST(document, operationName);
    if (!operation || operation.operation === 'subscription' || usesIntrospectionOrIncremental(document)) return UNSUPPORTED;
    return { supported: true, document, operation, operationName: operation.name?.value, queryHash: createHash('sha256').update(query).digest('hex') };
  }

  return {
    get(schema, query, operationName) {
      if (schema !== forSchema) {
        // A new supergraph: what validated against the old one may not against this one.
        forSchema = schema;
        entries = new Map();
      }
      const key = operationName === undefined ? query : `${operationName}\u0000${query}`;
      let prepared = entries.get(key);
      if (prepared) return prepared;
      prepared = prepare(schema, query, operationName);
      if (query.length <= MAX_PREPARED_QUERY_LENGTH) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
        entries.set(key, prepared);
      }
      return prepared;
    },
  };
}

/** Introspection fields (answered by the gateway, not by a plan) and incremental delivery (multipart answers). */
function usesIntrospectionOrIncremental(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
    Directive(node) {
      if (node.name.value === 'defer' || node.name.value === 'stream') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}
