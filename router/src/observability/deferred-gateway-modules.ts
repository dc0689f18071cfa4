/**
 * What @apollo/gateway loads at start for work the router never has it do, loaded on first use.
 *
 * The gateway's entry module requires, as it loads, packages it calls only for features the router
 * turns off or does itself (node_modules/@apollo/gateway/dist/):
 *
 *   - its usage telemetry to Apollo (utilities/opentelemetry.js): an OpenTelemetry metrics SDK, its
 *     OTLP exporter and resource detectors for four clouds, used only when
 *     APOLLO_TELEMETRY_DISABLED is not set (gateway.ts sets it);
 *   - composition, for the supergraph managers that compose (LocalCompose, IntrospectAndCompose);
 *     the router loads a composed supergraph file;
 *   - node-fetch (with whatwg-url and tr46) for RemoteGraphQLDataSource's `process`, which the
 *     router's data sources replace (signed-data-source.ts), and the usage-reporting protobuf
 *     (executeQueryPlan.js), both used only to build traces for Apollo's usage reporting.
 *
 * About 240 modules and 2.7 MB of JavaScript, a seventh of the work of loading the router's modules
 * (docs/performance.md, "The router's start and memory"). Importing this module puts a stand-in for each of those
 * packages in the CommonJS module cache. It is gateway.ts's first import, so that this happens
 * before the gateway loads (an ES module's imports run in their order, before its body). The
 * gateway's `require` then gets the stand-in, and the real package is loaded in its place the
 * first time anything reads from it: with telemetry turned on, or composition used (the router's
 * own compose.ts, through planning/federation-adapter.mjs), they load then and behave as before.
 * Their requirers read them only as `module.name` at the moment they call them, never as they load.
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
  '@apollo/composition',
  'node-fetch',
  '@apollo/usage-reporting-protobuf',
] as const;

/** CommonJS's module cache, one per process: what `require` returns without loading anything. */
const cache = gatewayRequire.cache;

// A package already loaded (by a process that composed first, say) stays as it is.
for (const name of DEFERRED_GATEWAY_MODULES) {
  const filename = gatewayRequire.resolve(name);
  if (!cache[filename]) cache[filename] = { id: filename, filename, loaded: true, exports: onFirstUse(filename) } as NodeJS.Module;
}

/** A stand-in for the module at `filename` that loads it, in place of itself, when first read. */
function onFirstUse(filename: string): object {
  let real: object | undefined;
  const load = (): object => {
    if (!real) {
      // Out of the cache first, so that this require loads the package rather than returning the stand-in.
      delete cache[filename];
      real = gatewayRequire(filename) as object;
    }
    return real;
  };
  return new Proxy(
    {},
    {
      get: (_, key) => Reflect.get(load(), key),
      has: (_, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
        // A proxy may not report a property its target (this empty object) lacks as non-configurable.
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
}
