/**
 * The router plans and executes with Apollo Federation's internals (planning/federation-adapter.mjs),
 * which are only safe at exactly the versions the installed @apollo/gateway depends on: a planner
 * or schema model from another release builds plans the gateway's executor misreads. This fails
 * as soon as they drift apart — in node_modules, in router/package.json, or by a router file
 * importing them around the adapter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FEDERATION_PACKAGES } from '../src/planning/federation-adapter.mjs';

const ROUTER = fileURLToPath(new URL('..', import.meta.url));
const ADAPTER = join(ROUTER, 'src/planning/federation-adapter.mjs');

/** The package.json of `name` as a module in `from`'s directory resolves it. */
function installed(name: string, from: string): { version: string; dependencies?: Record<string, string>; path: string } {
  // Resolving the entry point and walking up works whether or not the package exports package.json.
  let dir = dirname(createRequire(from).resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === name) return { ...pkg, path: dir };
    } catch {
      // No package.json at this level.
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json found for ${name}`);
    dir = up;
  }
}

const gateway = installed('@apollo/gateway', ADAPTER);
const gatewayEntry = join(gateway.path, 'package.json');
const routerPackage = JSON.parse(readFileSync(join(ROUTER, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

describe('federation internals match the gateway', () => {
  it.each(FEDERATION_PACKAGES)('%s: the router loads the exact version @apollo/gateway depends on, the same copy the gateway loads', (name) => {
    const wanted = gateway.dependencies?.[name];
    expect(wanted, `@apollo/gateway ${gateway.version} no longer depends on ${name}; update the adapter`).toBeDefined();
    expect(wanted, `@apollo/gateway asks for a range (${wanted}), not an exact version`).toMatch(/^\d+\.\d+\.\d+$/);
    const forRouter = installed(name, ADAPTER);
    const forGateway = installed(name, gatewayEntry);
    expect(forRouter.version, `${name} installed for the router`).toBe(wanted);
    expect(forGateway.version, `${name} installed for the gateway`).toBe(wanted);
    // One copy: a second copy would carry its own classes, and instanceof checks across them fail.
    expect(forRouter.path).toBe(forGateway.path);
    expect(routerPackage.dependencies[name], `router/package.json must pin ${name} to ${wanted}`).toBe(wanted);
  });

  it('pins @apollo/gateway itself, so the set only moves together', () => {
    expect(routerPackage.dependencies['@apollo/gateway']).toBe(gateway.version);
  });

  it('no router file imports the internals except the adapter', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(m?[jt]s)$/.test(entry.name) && path !== ADAPTER) {
          const text = readFileSync(path, 'utf8');
          const deep = [...FEDERATION_PACKAGES, '@apollo/query-graphs'].filter((p) => new RegExp(`from '${p}[/']|import\\('${p}`).test(text));
          // executeQueryPlan and buildOperationContext are the gateway's own executor internals.
          if (/import\s*{[^}]*\b(executeQueryPlan|buildOperationContext)\b[^}]*}\s*from '@apollo\/gateway'/.test(text)) deep.push('@apollo/gateway internals');
          if (deep.length) offenders.push(`${relative(ROUTER, path)}: ${deep.join(', ')}`);
        }
      }
    };
    walk(join(ROUTER, 'src'));
    walk(join(ROUTER, 'test'));
    expect(offenders).toEqual([]);
  });
});
