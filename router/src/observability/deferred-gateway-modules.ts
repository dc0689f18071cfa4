/**
 * What @apollo/gateway loads at start for work the router never has it do, loaded on first use.
 *
 * The gateway's entry module requires, as it loads, packages it calls only for features the router
 * turns off or does itself (node_modules/@apollo/gateway/dist/):
 *
 *   - its usage telemetry to Apollo (utilities/opentelemetry.js): an OpenTelemetry metrics SDK, its
 *     OTLP exporter and resource detectors for four clouds, used only when
 *     APOLLO_TELEMETRY_DISABLED is not set (gateway.ts sets it), and the semantic conventions'
 *     `incubating` entry it names their attributes from;
 *   - composition, for the supergraph managers that compose (LocalCompose, IntrospectAndCompose);
 *     the router loads a composed supergraph file;
 *   - node-fetch (with whatwg-url and tr46) for RemoteGraphQLDataSource's `process`, which the
 *     router's data sources replace (signed-data-source.ts), and the usage-reporting protobuf
 *     (executeQueryPlan.js), both used only to build traces for Apollo's usage reporting;
 *   - make-fetch-happen, the default fetcher of RemoteGraphQLDataSource and of the Uplink
 *     supergraph manager: the router's data sources fetch with their own client
 *     (subgraph-fetcher.ts), and the router reads its supergraph from a file.
 *
 * The first of them were about 240 modules and 2.7 MB of JavaScript, a seventh of the work of
 * loading the router's modules (docs/performance.md, "The router's start and memory"; make-fetch-happen
 * and the conventions: "Fetches and start, side by side"). Importing this module puts a stand-in for each of those
 * packages in the CommonJS module cache. It is gateway.ts's first import, so that this happens
 * before the gateway loads (an ES module's imports run in their order, before its body). The
 * gateway's `require` then gets the stand-in, and the real package is loaded in its place the
 * first time anything reads from it: with telemetry turned on, or composition used (the router's
 * own compose.ts, through planning/federation-adapter.mjs), they load then and behave as before.
 * Their requirers read them as `module.name` at the moment they call them; the few reads made
 * while the gateway loads are answered by the stand-in itself (KNOWN below).
 */
import { createRequire } from 'node:module';

const gatewayRequire = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));

/** Packages the gateway requires as it loads and uses only for the features above. */
export const DEFERRED_GATEWAY_MODULES = [
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/exporter-metrics-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/resource-detector-alibaba-cloud',
  '@opentelemetry/resource-detector-aws',
  '@opentelemetry/resource-detector-azure',
  '@opentelemetry/resource-detector-gcp',
  '@opentelemetry/semantic-conventions/incubating',
  '@apollo/composition',
  'node-fetch',
  '@apollo/usage-reporting-protobuf',
  'make-fetch-happen',
] as const;

/**
 * What the gateway reads from a deferred package while it loads, answered without loading it; each
 * value is the package's own (router/test/deferred-gateway-modules.test.ts compares them):
 *
 *   - its telemetry module builds a set of two attribute names from the semantic conventions'
 *     `incubating` entry (a few thousand constants) as it loads;
 *   - make-fetch-happen (with cacache, an npm cache, and proxy agents) is a CommonJS function whose
 *     properties TypeScript's import helpers list and test as the gateway's modules load (none is
 *     an ES module: no `__esModule`), and every RemoteGraphQLDataSource calls `defaults()` in its
 *     constructor for a fetcher the router's data sources never call (signed-data-source.ts).
 */
/** What a stand-in answers before its package loads (KNOWN, onFirstUse). */
interface KnownWhileLoading {
  /** Its own enumerable properties' names, listed without loading (their values still load it). */
  properties?: string[];
  /** Values read as the gateway loads, answered as they are. */
  values?: Record<string, unknown>;
  /** The package is a function; these of its methods are called as the gateway's modules load and
   * get back a function that loads the package, and calls the real method, at its first use. */
  calledWhileLoading?: string[];
}

const KNOWN: Partial<Record<(typeof DEFERRED_GATEWAY_MODULES)[number], KnownWhileLoading>> = {
  '@opentelemetry/semantic-conventions/incubating': {
    values: { __esModule: undefined, ATTR_CLOUD_PROVIDER: 'cloud.provider', ATTR_CLOUD_PLATFORM: 'cloud.platform' },
  },
  'make-fetch-happen': {
    properties: ['defaults', 'FetchError', 'Headers', 'Request', 'Response'],
    values: { __esModule: undefined },
    calledWhileLoading: ['defaults'],
  },
};

/** CommonJS's module cache, one per process: what `require` returns without loading anything. */
const cache = gatewayRequire.cache;

// A package already loaded (by a process that composed first, say) stays as it is.
for (const name of DEFERRED_GATEWAY_MODULES) {
  const filename = gatewayRequire.resolve(name);
  if (!cache[filename]) cache[filename] = { id: filename, filename, loaded: true, exports: onFirstUse(filename, KNOWN[name]) } as NodeJS.Module;
}

/**
 * A stand-in for the module at `filename` that loads it, in place of itself, when first read,
 * answering what `known` says without loading it.
 */
function onFirstUse(filename: string, known: KnownWhileLoading = {}): object {
  let real: Record<PropertyKey, unknown> | undefined;
  const load = (): Record<PropertyKey, unknown> => {
    if (!real) {
      // Out of the cache first, so that this require loads the package rather than returning the stand-in.
      delete cache[filename];
      real = gatewayRequire(filename) as Record<PropertyKey, unknown>;
    }
    return real;
  };
  const values = known.values ?? {};
  const properties = new Set(known.properties);
  const called = new Set(known.calledWhileLoading);
  // A function target for a function module: the stand-in can be called like it.
  const target = called.size ? () => {} : {};
  const answersWithoutLoading = (key: string | symbol): key is string => !real && typeof key === 'string';
  return new Proxy(target, {
    get: (_, key) => {
      if (answersWithoutLoading(key) && Object.hasOwn(values, key)) return values[key];
      if (answersWithoutLoading(key) && called.has(key)) return (...args: unknown[]) => deferredCall(() => (load()[key] as (...a: unknown[]) => unknown)(...args));
      return Reflect.get(load(), key);
    },
    has: (_, key) => (answersWithoutLoading(key) && properties.has(key)) || Reflect.has(load(), key),
    apply: (_, self, args) => Reflect.apply(load() as unknown as (...a: unknown[]) => unknown, self, args),
    ownKeys: () => (real || !properties.size ? Reflect.ownKeys(load()) : [...Reflect.ownKeys(target), ...properties]),
    getOwnPropertyDescriptor: (_, key) => {
      if (answersWithoutLoading(key) && properties.has(key)) return { enumerable: true, configurable: true, get: () => Reflect.get(load(), key) };
      // The function target's own `length` and `name`, as a proxy must report them.
      const own = !real && properties.size ? Reflect.getOwnPropertyDescriptor(target, key) : undefined;
      if (own) return own;
      const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
      // A proxy may not report a property its target (this empty object) lacks as non-configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** A function standing for the one `make()` returns, made (and the package loaded) at its first call or read. */
function deferredCall(make: () => unknown): unknown {
  let made: ((...a: unknown[]) => unknown) | undefined;
  const fn = () => (made ??= make() as (...a: unknown[]) => unknown);
  return new Proxy(() => {}, {
    apply: (_, self, args) => Reflect.apply(fn(), self, args),
    get: (_, key) => Reflect.get(fn(), key),
  });
}
