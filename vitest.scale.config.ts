import { createRequire } from 'node:module';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:scale-out`: the scale-out suite (packages/stack/test/scale-out/), two instances of
 * the router and of every subgraph as processes of their own, from the compiled build (the script
 * runs `npm run build` first); apart from `npm test`, and .ci/run runs it. Files: *.scale.test.ts.
 * Each file starts eight processes: one file at a time, or a 2-core machine would be running
 * sixteen.
 */
export default defineConfig({
  // As in vitest.config.ts: graphql resolved as Node resolves it (one module, not ESM and CommonJS),
  // because the stack composes the supergraphs in the test process.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
  // The test process itself (the harness, migrations and seed) runs the sources; only the services
  // it starts run their dist/.
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    name: 'scale-out',
    include: ['**/*.scale.test.ts'],
    exclude: ['**/node_modules/**', '**/.data/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
