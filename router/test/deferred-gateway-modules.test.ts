/**
 * The packages @apollo/gateway requires at start and the router does not use until asked
 * (router/src/observability/deferred-gateway-modules.ts): loading the gateway leaves them unloaded,
 * and the first read loads the real package, which then works as it always did.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeServices } from '../src/planning/federation-adapter.mjs';
import { DEFERRED_GATEWAY_MODULES } from '../src/observability/deferred-gateway-modules.ts';

const gatewayRequire = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));
const loadedFiles = () => Object.keys(gatewayRequire.cache);

describe('deferred gateway modules', () => {
  it('lets the gateway load without loading them, and loads each on first use', () => {
    gatewayRequire('@apollo/gateway');
    // None of their own files was read: only the stand-in sits at each package's entry.
    const compositionDir = gatewayRequire.resolve('@apollo/composition').replace(/dist\/index\.js$/, '');
    expect(loadedFiles().filter((f) => f.startsWith(compositionDir))).toHaveLength(1);
    expect(DEFERRED_GATEWAY_MODULES.length).toBeGreaterThan(0);

    // First use, through the router's own door to composition (router/src/compose.ts uses it): the real package composes.
    const result = composeServices([
      { name: 'a', url: 'http://a', typeDefs: parse('extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"]) type Query { hello: String }') },
    ]);
    expect(result.errors).toBeUndefined();
    expect(loadedFiles().filter((f) => f.startsWith(compositionDir)).length).toBeGreaterThan(1);
  });

  it('builds data sources without loading make-fetch-happen, whose fetcher then works as the real one', async () => {
    const { RemoteGraphQLDataSource } = gatewayRequire('@apollo/gateway') as typeof import('@apollo/gateway');
    const makeFetchHappenDir = dirname(gatewayRequire.resolve('make-fetch-happen'));
    const source = new RemoteGraphQLDataSource({ url: 'http://127.0.0.1:1/graphql' });
    expect(loadedFiles().filter((f) => f.startsWith(makeFetchHappenDir))).toHaveLength(1);
    expect(typeof source.fetcher).toBe('function');

    // Called, it loads the package and fetches: a real HTTP server answers.
    const server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const response = await source.fetcher(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(await response.text()).toBe('hello');
    } finally {
      server.close();
    }
    expect(loadedFiles().filter((f) => f.startsWith(makeFetchHappenDir)).length).toBeGreaterThan(1);
  });

  it('answers while the gateway loads exactly what the real packages would', () => {
    // Read from the real packages, loaded by a require of their own (no stand-in in its cache).
    const fresh = createRequire(gatewayRequire.resolve('@apollo/gateway'));
    for (const name of ['@opentelemetry/semantic-conventions/incubating', 'make-fetch-happen']) {
      const filename = gatewayRequire.resolve(name);
      const standIn = gatewayRequire.cache[filename]?.exports as Record<string, unknown>;
      delete fresh.cache[filename];
      const saved = gatewayRequire.cache[filename];
      delete gatewayRequire.cache[filename];
      const real = fresh(filename) as Record<string, unknown>;
      gatewayRequire.cache[filename] = saved;
      for (const key of ['__esModule', 'ATTR_CLOUD_PROVIDER', 'ATTR_CLOUD_PLATFORM']) expect(standIn[key], `${name} ${key}`).toBe(real[key]);
      expect(typeof standIn, name).toBe(typeof real);
      const enumerable = (o: object) => { const keys: string[] = []; for (const k in o) if (Object.hasOwn(o, k)) keys.push(k); return keys.sort(); };
      if (typeof real === 'function') expect(enumerable(standIn)).toEqual(enumerable(real));
    }
  });
});
