/**
 * Demand control: an operation's cost estimated from the supergraph before it is planned, and its
 * actual cost measured on the response, with the IBM cost directives the subgraphs annotate their
 * schemas with (composed into the supergraph by Federation 2.9+):
 *
 *   @cost(weight: N)         on a field (or a type): what one resolution of it costs
 *   @listSize(assumedSize, slicingArguments, sizedFields, requireOneSlicingArgument)
 *                            how long a list is: the largest of the slicing arguments given
 *                            (`first`), else assumedSize, else DEMAND_CONTROL_DEFAULT_LIST_SIZE;
 *                            with sizedFields, the size applies to those child fields (a Relay
 *                            connection's `edges`)
 *
 * Weights, as Apollo Router's demand control counts them: an object (or interface, union) costs 1,
 * a scalar or enum 0, a mutation's root field 10, unless @cost says otherwise; a list multiplies
 * what one element costs by its size. `@skip`/`@include` are not evaluated: an estimate must hold
 * whatever the variables, so it errs high.
 */
import {
  GraphQLError,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  valueFromASTUntyped,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RouterContext } from '../context.ts';
import type { EdgeOperation } from './admission.ts';

const COST_SPEC = 'https://specs.apollo.dev/cost/';
const MUTATION_FIELD_COST = 10;

interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

export interface CostModel {
  estimate(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number;
  actual(document: DocumentNode, operation: OperationDefinitionNode, data: unknown): number;
}

export const CostCode = { OPERATION_TOO_EXPENSIVE: 'OPERATION_TOO_EXPENSIVE' } as const;

/** The names the supergraph gives the cost directives: imported ones keep theirs, others are prefixed. */
function costDirectiveNames(document: DocumentNode): { cost: string; listSize: string } {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      const args = Object.fromEntries((link.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
      if (link.name.value !== 'link' || typeof args.url !== 'string' || !args.url.startsWith(COST_SPEC)) continue;
      const prefix = typeof args.as === 'string' ? args.as : 'cost';
      const imported = new Map<string, string>();
      for (const item of (args.import as unknown[] | undefined) ?? []) {
        if (typeof item === 'string') imported.set(item, item);
        else if (item && typeof item === 'object' && 'name' in item) {
          const { name, as } = item as { name: string; as?: string };
          imported.set(name, as ?? name);
        }
      }
      const nameOf = (directive: string, namesake: boolean) =>
        (imported.get(`@${directive}`) ?? (namesake ? `@${prefix}` : `@${prefix}__${directive}`)).slice(1);
      return { cost: nameOf('cost', true), listSize: nameOf('listSize', false) };
    }
  }
  return { cost: 'cost', listSize: 'listSize' };
}

const argsOf = (directive: DirectiveNode) =>
  Object.fromEntries((directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));

/** Reads every @cost and @listSize of the supergraph into maps keyed by "Type" and "Type.field". */
function readDirectives(supergraphSdl: string) {
  const document = parse(supergraphSdl, { noLocation: true });
  const names = costDirectiveNames(document);
  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  for (const def of document.definitions) {
    if (!('name' in def) || !def.name || !('directives' in def)) continue;
    const typeName = def.name.value;
    for (const d of def.directives ?? []) if (d.name.value === names.cost) weights.set(typeName, Number(argsOf(d).weight));
    if (!('fields' in def) || !def.fields) continue;
    for (const field of def.fields) {
      const key = `${typeName}.${field.name.value}`;
      for (const d of field.directives ?? []) {
        if (d.name.value === names.cost) weights.set(key, Number(argsOf(d).weight));
        if (d.name.value === names.listSize) listSizes.set(key, argsOf(d) as ListSize);
      }
    }
  }
  return { weights, listSizes };
}

const unwrapNonNull = (type: GraphQLOutputType) => (isNonNullType(type) ? type.ofType : type);

export function costModel(apiSchema: GraphQLSchema, supergraphSdl: string, defaultListSize: number): CostModel {
  const { weights, listSizes } = readDirectives(supergraphSdl);

  const baseCost = (parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, isMutationRoot: boolean): number => {
    const named = field.type;
    let inner: GraphQLOutputType = named;
    while ('ofType' in inner) inner = inner.ofType as GraphQLOutputType;
    return (
      weights.get(`${parent.name}.${field.name}`) ??
      (isMutationRoot ? MUTATION_FIELD_COST : undefined) ??
      weights.get((inner as { name: string }).name) ??
      (isCompositeType(inner) ? 1 : 0)
    );
  };

  /** The size a @listSize field's slicing arguments (or assumedSize) give; undefined without @listSize. */
  const sizeFromArguments = (key: string, node: FieldNode, variables: Record<string, unknown>): number | undefined => {
    const spec = listSizes.get(key);
    if (!spec) return undefined;
    let size: number | undefined;
    for (const arg of node.arguments ?? []) {
      if (!spec.slicingArguments?.includes(arg.name.value)) continue;
      const value = arg.value.kind === Kind.VARIABLE ? variables[arg.value.name.value] : valueFromASTUntyped(arg.value);
      if (typeof value === 'number' && Number.isFinite(value)) size = Math.max(size ?? 0, value);
    }
    return size ?? spec.assumedSize ?? defaultListSize;
  };

  /**
   * One walk for both costs. `sizeOf` says how many elements a list field has: the estimate asks
   * the arguments and directives; the actual cost counts the response.
   */
  function walk(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    data: unknown,
    measured: boolean,
  ): number {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    // A fragment's estimate depends only on where it is spread (type, sized fields): memoized, so
    // fragments spreading fragments cost linear time, not exponential.
    const memo = new Map<string, number>();

    const selectionSet = (
      parent: GraphQLCompositeType,
      set: SelectionSetNode,
      values: unknown,
      sized: { fields: string[]; size: number } | undefined,
      isRoot: boolean,
    ): number => {
      let total = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? (apiSchema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parent;
          if (type && matches(type, values)) total += selectionSet(type, selection.selectionSet, values, sized, isRoot);
        } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const fragment = fragments.get(selection.name.value);
          const type = fragment && (apiSchema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined);
          if (!fragment || !type || !matches(type, values)) continue;
          if (measured) total += selectionSet(type, fragment.selectionSet, values, sized, isRoot);
          else {
            const key = `${fragment.name.value}|${sized ? `${sized.fields.join(',')}:${sized.size}` : ''}|${isRoot}`;
            if (!memo.has(key)) memo.set(key, selectionSet(type, fragment.selectionSet, values, sized, isRoot));
            total += memo.get(key)!;
          }
        } else {
          total += field(parent, selection, values, sized, isRoot);
        }
      }
      return total;
    };

    const field = (
      parent: GraphQLCompositeType,
      node: FieldNode,
      values: unknown,
      sized: { fields: string[]; size: number } | undefined,
      isRoot: boolean,
    ): number => {
      if (node.name.value.startsWith('__') || !('getFields' in parent)) return 0;
      const def = parent.getFields()[node.name.value];
      if (!def) return 0;
      const key = `${parent.name}.${def.name}`;
      const base = baseCost(parent, def, isRoot && operation.operation === 'mutation');
      const value = measured ? (values as Record<string, unknown> | null | undefined)?.[node.alias?.value ?? node.name.value] : undefined;
      if (measured && (value === null || value === undefined)) return 0;

      const declared = sizeFromArguments(key, node, variables);
      const spec = listSizes.get(key);
      // With sizedFields the size belongs to the children (edges), not to this field.
      const childSized = declared !== undefined && spec?.sizedFields?.length ? { fields: spec.sizedFields, size: declared } : undefined;
      let inner: GraphQLOutputType = def.type;
      while ('ofType' in inner) inner = inner.ofType as GraphQLOutputType;
      const one = (element: unknown) =>
        base + (node.selectionSet && isCompositeType(inner) ? selectionSet(inner, node.selectionSet, element, childSized, false) : 0);

      if (!isListType(unwrapNonNull(def.type))) return one(value);
      if (measured) return (value as unknown[]).reduce<number>((sum, element) => sum + (element === null ? 0 : one(element)), 0);
      const size = (sized?.fields.includes(def.name) ? sized.size : undefined) ?? (childSized ? undefined : declared) ?? defaultListSize;
      return size * one(undefined);
    };

    /** On a response, a type condition holds only for the object's own __typename (when it was selected). */
    const matches = (type: GraphQLCompositeType, values: unknown) => {
      if (!measured || !values || typeof values !== 'object') return true;
      const typename = (values as { __typename?: unknown }).__typename;
      if (typeof typename !== 'string' || typename === type.name) return true;
      const concrete = apiSchema.getType(typename);
      return !!concrete && 'getInterfaces' in concrete && apiSchema.isSubType(type as never, concrete as never);
    };

    const root = apiSchema.getRootType(operation.operation);
    if (!root) return 0;
    return selectionSet(root, operation.selectionSet, data, undefined, true);
  }

  return {
    estimate: (document, operation, variables) => walk(document, operation, variables, undefined, false),
    actual: (document, operation, data) => walk(document, operation, {}, data, true),
  };
}

/** The admission check: refuses an operation whose estimate is over `maxCost`. */
export function demandControl(model: () => CostModel | undefined, maxCost: number) {
  return (op: Pick<EdgeOperation, 'document' | 'operation' | 'variables' | 'context'>) => {
    const current = model();
    if (!current) return;
    const estimated = current.estimate(op.document, op.operation, op.variables);
    op.context.cost = { estimated, max: maxCost };
    // NaN (0 × an overflowing nested list) must not slip through: only a finite estimate within the limit passes.
    if (!(estimated <= maxCost)) {
      throw new GraphQLError(
        `The operation's estimated cost is ${estimated}, over the limit of ${maxCost}. Ask for fewer items per page (first) or fewer nested lists.`,
        { extensions: { code: CostCode.OPERATION_TOO_EXPENSIVE, limit: maxCost, found: estimated, http: { status: 400 } } },
      );
    }
  };
}

/** Header a client (a developer, a test) sends to get `extensions.cost` back. */
export const COST_DEBUG_HEADER = 'x-campus-debug-cost';

/**
 * With the debug header, the response carries `extensions.cost`: the estimate admission made, the
 * actual cost counted on the data returned, and the limit — how a developer sees why an operation
 * is near the limit, and how the @listSize assumptions compare with real data.
 */
export function costReportPlugin(model: () => CostModel | undefined): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart(rc) {
      if (!rc.request.http?.headers.get(COST_DEBUG_HEADER)) return;
      return {
        async willSendResponse({ response, contextValue, document, operation }) {
          const estimate = contextValue.cost;
          const current = model();
          if (response.body.kind !== 'single' || !estimate || !current || !document || !operation) return;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            cost: { estimated: estimate.estimated, actual: current.actual(document, operation, result.data), max: estimate.max },
          };
        },
      };
    },
  };
}
