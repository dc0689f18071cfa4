import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:tooling`: tests of the repository's own commands, each minutes long (they run
 * typecheck and build in a copy of the repository, or the production commands of README.md), so
 * apart from `npm test`; .ci/run runs both. Files: *.tooling.test.ts.
 */
export default defineConfig({
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    name: 'tooling',
    include: ['**/*.tooling.test.ts'],
    exclude: ['**/node_modules/**', '**/.data/**'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    // Each file compiles or runs the whole repository: one at a time.
    fileParallelism: false,
  },
});
