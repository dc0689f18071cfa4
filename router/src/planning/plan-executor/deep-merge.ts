/**
 * How an entity fetch's answer joins the data gathered so far: the gateway's `deepMerge`
 * (node_modules/@apollo/gateway/dist/utilities/deepMerge.js), rule for rule, so that what the
 * response is shaped from is the same object tree the gateway's executor would have built.
 */
type DataObject = Record<string, unknown>;

function isObject(value: unknown): value is DataObject {
  return value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A key the target only inherits (`constructor`, `toString` on an object JSON.parse made) becomes
 * its own first, as the gateway's defineOwn does, so that merging never reaches a prototype.
 */
function defineOwn(target: DataObject, key: string): void {
  if (!Object.prototype.hasOwnProperty.call(target, key) && key in target) {
    Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
  }
}

/** What an object made by JSON.parse or `{}` inherits: the only keys defineOwn can change for one. */
const INHERITED_BY_PLAIN_OBJECTS = new Set(Object.getOwnPropertyNames(Object.prototype));

export function deepMerge(target: DataObject, source: unknown): DataObject {
  if (source === undefined || source === null) return target;
  const from = source as DataObject;
  // Which keys defineOwn must look at: none for a null-prototype object, Object.prototype's names
  // for a plain one (JSON.parse's), every key for anything else.
  const prototype = Object.getPrototypeOf(target) as object | null;
  const everyKey = prototype !== null && prototype !== Object.prototype;
  for (const key of Object.keys(from)) {
    const value = from[key];
    if (value === undefined) continue;
    if (prototype !== null && (everyKey || INHERITED_BY_PLAIN_OBJECTS.has(key))) defineOwn(target, key);
    const existing = target[key];
    if (existing && isObject(value)) {
      deepMerge(existing as DataObject, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        if (isObject(existing[i]) && isObject(value[i])) deepMerge(existing[i] as DataObject, value[i]);
        else existing[i] = value[i];
      }
    } else {
      target[key] = value;
    }
  }
  return target;
}
