/**
 * The `representations` of an entity fetch: for each entity the plan's `requires` selection picks
 * out (its key fields, __typename, and what @requires asks for), as the gateway's
 * `executeSelectionSet` (node_modules/@apollo/gateway/dist/executeQueryPlan.js) builds them: an
 * entity missing a selected field has no representation, and an inline fragment applies when the
 * entity's __typename is its type condition or, for an abstract condition, one of its subtypes
 * (the gateway's `isObjectOfType`, dataRewrites.js).
 */
import { isAbstractType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import type { QueryPlanSelectionNode } from '../federation-adapter.mjs';
import { deepMerge } from './deep-merge.ts';

type DataObject = Record<string, unknown>;

/** isObjectOfType per (type condition, __typename): the supergraph does not change under a plan. */
export class TypeConditions {
  private readonly known = new Map<string, boolean>();
  constructor(private readonly schema: GraphQLSchema) {}

  objectIsOfType(object: DataObject, typeCondition: string): boolean {
    const typename = object.__typename as string | undefined;
    if (!typename) return false;
    if (typeCondition === typename) return true;
    const key = `${typeCondition}\u0000${typename}`;
    let answer = this.known.get(key);
    if (answer === undefined) {
      const type = this.schema.getType(typename);
      const condition = this.schema.getType(typeCondition);
      answer = !!type && !!condition && isAbstractType(condition) && (isObjectType(type) || isInterfaceType(type)) && this.schema.isSubType(condition, type);
      this.known.set(key, answer);
    }
    return answer;
  }
}

/** Whether a representation may be a plain `{}` (see CompiledShape.plainObjects): no selected name is one Object.prototype has. */
export function plainRepresentations(selections: readonly QueryPlanSelectionNode[], inherited: ReadonlySet<string>): boolean {
  return selections.every((s) =>
    s.kind === 'Field' ? !inherited.has(s.alias ? s.alias : s.name) && (!s.selections || plainRepresentations(s.selections, inherited)) : plainRepresentations(s.selections, inherited),
  );
}

export function representationOf(types: TypeConditions, source: unknown, selections: readonly QueryPlanSelectionNode[], plain: boolean): DataObject | null {
  if (source === null) return null;
  const entity = source as DataObject;
  const result = plain ? {} : (Object.create(null) as DataObject);
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const responseName = selection.alias ? selection.alias : selection.name;
      const nested = selection.selections;
      if (!Object.prototype.hasOwnProperty.call(entity, responseName) || typeof entity[responseName] === 'undefined') return null;
      const value = entity[responseName];
      if (Array.isArray(value)) result[responseName] = value.map((element) => (nested ? representationOf(types, element, nested, plain) : element));
      else if (nested) result[responseName] = representationOf(types, value, nested, plain);
      else result[responseName] = value;
    } else {
      if (!selection.typeCondition || !entity) continue;
      if (types.objectIsOfType(entity, selection.typeCondition)) deepMerge(result, representationOf(types, entity, selection.selections, plain));
    }
  }
  return result;
}
