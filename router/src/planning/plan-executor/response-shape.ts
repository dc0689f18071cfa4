/**
 * The client's answer made from what the plan's fetches gathered: the gateway's `computeResponse`
 * (node_modules/@apollo/gateway/dist/resultShaping.js), compiled once per operation instead of
 * interpreted per request.
 *
 * The gateway walks the operation's selection set for every answer, asking the schema model again
 * each time for every field's response name, type, @skip/@include directives and each fragment's
 * type condition. Here that walk is done once, into a tree of steps that keeps the selection set's
 * exact structure (same order, fragments where they were), so the same rules apply in the same
 * order: null propagation, the same errors with the same messages and paths, __typename from the
 * data or the parent type, invalid leaf values nulled. Only the lookups are gone.
 *
 * Where the gateway would stop on an assertion (data no subgraph should send: a list where an
 * object belongs, a non-boolean @skip variable), the compiled walk gives up (ShapeNotCovered) and
 * the caller shapes that answer with the gateway's own code, which then fails exactly as it does.
 */
import { ERRORS, isSubtype, isValidLeafValue, Variable, type FederationNamedType, type FederationType, type Operation, type SelectionSet } from '../federation-adapter.mjs';
import type { GraphQLError } from 'graphql';

/** Thrown where the gateway's shaping would assert: that answer is shaped by the gateway instead. */
export class ShapeNotCovered extends Error {}

type Variables = Record<string, unknown>;
type Path = (string | number)[];
type DataObject = Record<string, unknown>;

/** @skip(if:) or @include(if:): a literal, or the name of a variable. */
type IfArgument = boolean | { variable: string };

/** How a field's type is walked: its wrappers, then a composite (with sub-steps) or a leaf. */
type TypeShape =
  | { kind: 'nonNull'; type: FederationType; of: TypeShape }
  | { kind: 'list'; type: FederationType; of: TypeShape }
  | { kind: 'composite'; type: FederationNamedType }
  | { kind: 'leaf'; type: FederationNamedType };

interface Directives {
  skip: IfArgument | undefined;
  include: IfArgument | undefined;
}

interface FieldStep extends Directives {
  kind: 'field';
  responseName: string;
  typename: boolean;
  shape: TypeShape;
  steps: Step[] | undefined;
}

interface FragmentStep extends Directives {
  kind: 'fragment';
  /** The type condition; undefined for an inline fragment without one. */
  condition: FederationNamedType | undefined;
  /** Whether the condition applies to a runtime type, by that type's name (memoized: the schema does not change). */
  appliesTo: Map<string, boolean>;
  steps: Step[];
}

type Step = FieldStep | FragmentStep;

export interface CompiledShape {
  steps: Step[];
  /**
   * Whether the answer's objects may be plain `{}` rather than the gateway's Object.create(null):
   * true unless a response name is one Object.prototype has (an alias `constructor`), which a plain
   * object would seem to hold already. Plain objects keep V8's fast properties: cheaper to build
   * and to serialize than null-prototype ones, which V8 keeps as dictionaries.
   */
  plainObjects: boolean;
  rootType: FederationNamedType;
  schema: ReturnType<Operation['schema']>;
  /** Variables with a default in the operation, as the gateway adds them under the request's own. */
  defaults: Variables;
}

/** Whether an operation has what only the gateway's shaping handles (introspection fields). */
export function hasIntrospection(selectionSet: SelectionSet): boolean {
  for (const selection of selectionSet.selections()) {
    if (selection.kind === 'FieldSelection' && selection.element.definition.isSchemaIntrospectionField()) return true;
    if (selection.selectionSet && hasIntrospection(selection.selectionSet)) return true;
  }
  return false;
}

export function compileShape(operation: Operation): CompiledShape {
  const schema = operation.schema();
  const rootType = schema.schemaDefinition.rootType(operation.rootKind);
  if (!rootType) throw new Error(`The schema has no ${operation.rootKind} root type.`);
  const steps = compileSteps(operation.selectionSet, schema);
  return { steps, plainObjects: !stepsUseInheritedName(steps), rootType, schema, defaults: operation.collectDefaultedVariableValues() };
}

/** The names a plain object inherits (Object.prototype's). */
export const INHERITED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

function stepsUseInheritedName(steps: Step[]): boolean {
  return steps.some((step) => (step.kind === 'field' && INHERITED_NAMES.has(step.responseName)) || (step.steps !== undefined && stepsUseInheritedName(step.steps)));
}

function compileSteps(selectionSet: SelectionSet, schema: CompiledShape['schema']): Step[] {
  const steps: Step[] = [];
  for (const selection of selectionSet.selections()) {
    const element = selection.element;
    const directives: Directives = {
      skip: ifArgument(element.appliedDirectivesOf(schema.skipDirective())[0]),
      include: ifArgument(element.appliedDirectivesOf(schema.includeDirective())[0]),
    };
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      steps.push({
        kind: 'field',
        ...directives,
        responseName: field.responseName(),
        typename: field.name === '__typename',
        shape: shapeOf(field.definition.type!),
        steps: selection.selectionSet ? compileSteps(selection.selectionSet, schema) : undefined,
      });
    } else {
      steps.push({
        kind: 'fragment',
        ...directives,
        condition: selection.element.typeCondition,
        appliesTo: new Map(),
        steps: compileSteps(selection.selectionSet, schema),
      });
    }
  }
  return steps;
}

function ifArgument(directive: { arguments(): Record<string, unknown> } | undefined): IfArgument | undefined {
  if (!directive) return undefined;
  const value = directive.arguments().if;
  return value instanceof Variable ? { variable: value.name } : (value as boolean);
}

function shapeOf(type: FederationType): TypeShape {
  switch (type.kind) {
    case 'NonNullType':
      return { kind: 'nonNull', type, of: shapeOf(type.ofType) };
    case 'ListType':
      return { kind: 'list', type, of: shapeOf(type.ofType) };
    case 'ObjectType':
    case 'InterfaceType':
    case 'UnionType':
      return { kind: 'composite', type };
    default:
      return { kind: 'leaf', type: type as FederationNamedType };
  }
}

const OK = 0;
const NULL_BUBBLE_UP = 1;

/** One answer's shaping: its variables and errors, and the flags the gateway returns beside each value. */
interface Run {
  shape: CompiledShape;
  requestVariables: Variables | undefined;
  errors: GraphQLError[];
  /** Set by updateOutputValue beside the value it returns (the gateway returns them in an object). */
  invalid: boolean;
  hasErrors: boolean;
}

/** computeResponse for a compiled operation; throws ShapeNotCovered where the gateway's would assert. */
export function shapeResponse(shape: CompiledShape, variables: Variables | undefined, input: DataObject): { data: DataObject | null; errors: GraphQLError[] } {
  const run: Run = { shape, requestVariables: variables, errors: [], invalid: false, hasErrors: false };
  const data = newObject(shape);
  const result = applySteps(run, input, shape.steps, data, [], shape.rootType);
  return { data: result === NULL_BUBBLE_UP ? null : data, errors: run.errors };
}

function newObject(shape: CompiledShape): DataObject {
  return shape.plainObjects ? {} : (Object.create(null) as DataObject);
}

function variableValue(run: Run, name: string): unknown {
  const own = run.requestVariables;
  if (own && Object.prototype.hasOwnProperty.call(own, name)) return own[name];
  return run.shape.defaults[name];
}

function ifValue(run: Run, argument: IfArgument): boolean {
  if (typeof argument !== 'object') return argument;
  const value = variableValue(run, argument.variable);
  if (typeof value !== 'boolean') throw new ShapeNotCovered(`non-boolean value for $${argument.variable}`);
  return value;
}

function skipped(run: Run, step: Directives): boolean {
  return (step.skip !== undefined && ifValue(run, step.skip)) || (step.include !== undefined && !ifValue(run, step.include));
}

function isObjectType(type: FederationNamedType | undefined): boolean {
  return type?.kind === 'ObjectType';
}

function isCompositeType(type: FederationNamedType | undefined): boolean {
  return type?.kind === 'ObjectType' || type?.kind === 'InterfaceType' || type?.kind === 'UnionType';
}

function applies(run: Run, step: FragmentStep, runtimeTypeName: string): boolean {
  if (!step.condition) return true;
  let applies = step.appliesTo.get(runtimeTypeName);
  if (applies === undefined) {
    const type = run.shape.schema.type(runtimeTypeName);
    applies = !!type && isSubtype(step.condition, type);
    step.appliesTo.set(runtimeTypeName, applies);
  }
  return applies;
}

function applySteps(run: Run, input: DataObject, steps: Step[], output: DataObject, path: Path, parentType: FederationNamedType): number {
  for (const step of steps) {
    if ((step.skip !== undefined || step.include !== undefined) && skipped(run, step)) continue;
    if (step.kind === 'field') {
      const responseName = step.responseName;
      const outputValue = output[responseName];
      let inputValue = (Object.prototype.hasOwnProperty.call(input, responseName) ? input[responseName] : undefined) ?? null;
      if (step.typename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== '__typename') inputValue = input.__typename ?? null;
          const type = inputValue !== null && typeof inputValue === 'string' ? (run.shape.schema.type(inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) return NULL_BUBBLE_UP;
          output[responseName] = type.name;
        }
        continue;
      }
      path.push(responseName);
      output[responseName] = updateOutputValue(run, outputValue, step.shape, inputValue, step.steps, path, parentType);
      path.pop();
      if (run.invalid) return NULL_BUBBLE_UP;
    } else {
      const typename = input.__typename;
      if (typename && typeof typename !== 'string') throw new ShapeNotCovered('non-string __typename');
      const runtimeTypeName = typename ? (typename as string) : parentType.name;
      // An unknown __typename matches no condition, as in the gateway (schema.type() is undefined).
      if (applies(run, step, runtimeTypeName)) {
        if (applySteps(run, input, step.steps, output, path, step.condition ?? parentType) === NULL_BUBBLE_UP) return NULL_BUBBLE_UP;
      }
    }
  }
  return OK;
}

/** The gateway's message for the last element of `path`. */
function describeLast(path: Path, currentType: FederationType, parentType: FederationNamedType): string {
  const element = path[path.length - 1];
  return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${currentType} at index ${element}`;
}

function settle(run: Run, value: unknown, invalid: boolean, hasErrors: boolean): unknown {
  run.invalid = invalid;
  run.hasErrors = hasErrors;
  return value;
}

function updateOutputValue(run: Run, outputValue: unknown, shape: TypeShape, inputValue: unknown, steps: Step[] | undefined, path: Path, parentType: FederationNamedType): unknown {
  if (inputValue === undefined) throw new ShapeNotCovered('undefined input value');
  if (outputValue === null || (outputValue !== undefined && !steps)) return settle(run, outputValue, false, false);
  if (shape.kind === 'nonNull') {
    const updated = updateOutputValue(run, outputValue, shape.of, inputValue, steps, path, parentType);
    if (updated === null) {
      if (!run.hasErrors) {
        run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(path, shape.of.type, parentType)}.`, { path: Array.from(path) }));
      }
      return settle(run, updated, true, true);
    }
    // As the gateway: a non-null value that is there reports neither flag, whatever was below it.
    return settle(run, updated, false, false);
  }
  if (inputValue === null) return settle(run, null, false, false);
  if (shape.kind === 'list') {
    if (!Array.isArray(inputValue)) throw new ShapeNotCovered('non-list value for a list type');
    if (outputValue !== undefined && !Array.isArray(outputValue)) throw new ShapeNotCovered('non-list output for a list type');
    const length = inputValue.length;
    if (outputValue !== undefined && (outputValue as unknown[]).length !== length) throw new ShapeNotCovered('list lengths differ');
    const outputList = outputValue as unknown[] | undefined;
    const updated = new Array<unknown>(length);
    let nullify = false;
    let hasErrors = false;
    for (let index = 0; index < length; index++) {
      path.push(index);
      updated[index] = updateOutputValue(run, outputList === undefined ? undefined : outputList[index], shape.of, inputValue[index], steps, path, parentType);
      path.pop();
      nullify ||= run.invalid;
      hasErrors ||= run.hasErrors;
    }
    return settle(run, nullify ? null : updated, false, hasErrors);
  }
  if (shape.kind === 'composite') {
    if (!steps) throw new ShapeNotCovered('composite type without a selection set');
    if (typeof inputValue !== 'object') throw new ShapeNotCovered('non-object value for a composite type');
    if (outputValue !== undefined && typeof outputValue !== 'object') throw new ShapeNotCovered('non-object output for a composite type');
    const input = inputValue as DataObject;
    const inputTypename = input.__typename;
    if (inputTypename !== undefined && typeof inputTypename !== 'string') throw new ShapeNotCovered('non-string __typename');
    let objectType = shape.type;
    if (inputTypename) {
      const typenameType = run.shape.schema.type(inputTypename);
      if (!typenameType || !isCompositeType(typenameType)) {
        run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(path, shape.type, parentType)}.`, { path: Array.from(path) }));
        return settle(run, null, false, true);
      }
      objectType = typenameType;
    }
    const outputObject = (outputValue === undefined ? newObject(run.shape) : outputValue) as DataObject;
    const bubbled = applySteps(run, input, steps, outputObject, path, objectType) === NULL_BUBBLE_UP;
    return settle(run, bubbled ? null : outputObject, false, bubbled);
  }
  if (outputValue !== undefined) throw new ShapeNotCovered('output already set for a leaf');
  const valid = isValidLeafValue(run.shape.schema, inputValue, shape.type as Parameters<typeof isValidLeafValue>[2]);
  if (!valid) {
    run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, shape.type, parentType)}.`, { path: Array.from(path) }));
  }
  return settle(run, valid ? inputValue : null, false, !valid);
}
