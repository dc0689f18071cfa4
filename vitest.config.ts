import { defineConfig } from 'vitest/config';

/**
 * One config, three projects chosen by file suffix:
 *   *.test.ts      unit: no I/O, fast
 *   *.int.test.ts  integration: a real database (PostgreSQL when TEST_DATABASE_URL is set, PGlite otherwise)
 *   *.e2e.test.ts  end to end: subgraphs and router on free ports, talked to over HTTP and WebSocket
 */
const exclude = ['**/node_modules/**', '**/.data/**'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
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
