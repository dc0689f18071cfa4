/**
 * The packages @apollo/gateway requires at start and the router does not use until asked
 * (router/src/observability/deferred-gateway-modules.ts): loading the gateway leaves them unloaded,
 * and the first read loads the real package, which then works as it always did.
 */
import { createRequire } from 'node:module';
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
});
