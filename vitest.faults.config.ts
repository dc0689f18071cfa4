import { createRequire } from 'node:module';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the fault-injection suite (packages/stack/test/faults/), minutes long,
 * apart from `npm test`; .ci/run runs it. Files: *.faults.test.ts. Each file starts every service
 * as a process of its own and kills them: one file at a time, or two files' load would distort
 * each other's faults on a 2-core machine.
 */
export default defineConfig({
  // As in vitest.config.ts: graphql resolved as Node resolves it (one module, not ESM and CommonJS),
  // because the stack composes the supergraph in the test process.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    name: 'faults',
    include: ['**/*.faults.test.ts'],
    exclude: ['**/node_modules/**', '**/.data/**'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
