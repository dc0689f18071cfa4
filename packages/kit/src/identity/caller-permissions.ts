/**
 * What a service other than the router may ask: the callee declares it field by field, and
 * anything else is refused (403) before the operation runs. The router may ask anything (the
 * subgraph's shield still applies to the viewer); another service asks only for what it needs,
 * so a leaked payments key reads course prices, not everything courses knows.
 */
import {
  isObjectType,
  Kind,
  parse,
  TypeInfo,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

export interface CallerPermissions {
  /** Root query fields it may select. Queries only: no mutations, no subscriptions. */
  query: string[];
  /** Entity types it may name in `_entities` representations. */
  entities?: string[];
  /** Fields it may select, by type name (`__typename` is always allowed). */
  fields: Record<string, string[]>;
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
}

/**
 * Why `caller` may not send this request body, or undefined when every field it selects is
 * allowed. The whole document is checked (every operation and fragment), not only the one that
 * would run: nothing in it may ask for more.
 */
export function callerOperationProblem(schema: GraphQLSchema, caller: string, may: CallerPermissions, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `${caller} may send one operation per request, as JSON`;
  const { query, variables } = body as GraphQLBody;
  if (typeof query !== 'string') return `${caller} must send the operation's text`;
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return `${caller} sent an operation that does not parse`;
  }
  const vars = typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : {};
  const queryType = schema.getQueryType();
  const allowedEntities = new Set(may.entities ?? []);
  const typeInfo = new TypeInfo(schema);
  let problem: string | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        if (node.operation !== 'query') problem ??= `${caller} may not send a ${node.operation}`;
      },
      Field(node) {
        if (problem) return;
        const field = node.name.value;
        if (field === '__typename') return;
        const parent = typeInfo.getParentType();
        if (!parent) {
          problem = `${caller} asked for ${field}, which this service does not have`;
          return;
        }
        const allowed = parent === queryType ? may.query : isObjectType(parent) ? may.fields[parent.name] : undefined;
        if (!allowed?.includes(field)) {
          problem = `${caller} may not ask for ${parent.name}.${field}`;
          return;
        }
        if (parent === queryType && field === '_entities') {
          const argument = node.arguments?.find((a) => a.name.value === 'representations');
          const representations = argument ? valueFromASTUntyped(argument.value, vars) : undefined;
          const list: unknown[] = Array.isArray(representations) ? representations : [representations];
          const names = list.map((r) => (r as { __typename?: unknown } | null)?.__typename);
          const denied = names.find((n) => typeof n !== 'string' || !allowedEntities.has(n));
          if (names.some((n) => typeof n !== 'string' || !allowedEntities.has(n))) {
            problem = `${caller} may not resolve ${typeof denied === 'string' ? denied : 'these'} entities`;
          }
        }
      },
    }),
  );
  if (problem) return problem;
  // Type system definitions in a request are refused by GraphQL validation anyway; say so here.
  const other = document.definitions.some((d) => d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION);
  return other ? `${caller} sent a definition that is not an operation or a fragment` : undefined;
}
