import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

/**
 * One config, three projects chosen by file suffix:
 *   *.test.ts      unit: no I/O, fast
 *   *.int.test.ts  integration: a real database (PostgreSQL when TEST_DATABASE_URL is set, PGlite otherwise)
 *   *.e2e.test.ts  end to end: subgraphs and router on free ports, talked to over HTTP and WebSocket
 */
const exclude = ['**/node_modules/**', '**/.data/**'];

/**
 * graphql ships CommonJS (`main`) and ESM (`module`) builds and no `exports` map. Node, and so
 * tsx in production, loads the CommonJS one everywhere; Vite would hand our sources the ESM one
 * while @apollo/gateway (CommonJS) uses the other, and graphql refuses schemas "from another
 * module or realm". Resolving it as Node does keeps tests on the production module graph.
 */
const resolve = { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] };

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        resolve,
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
