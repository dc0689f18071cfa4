import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * One config, three projects chosen by file suffix:
 *   *.test.ts      unit: no I/O, fast
 *   *.int.test.ts  integration: a real database (PostgreSQL when TEST_DATABASE_URL is set, PGlite otherwise)
 *   *.e2e.test.ts  end to end: subgraphs and router on free ports, talked to over HTTP and WebSocket
 */
// *.tooling.test.ts, *.faults.test.ts and *.scale.test.ts run apart: `npm run test:tooling`,
// `test:faults` and `test:scale-out` (vitest.tooling.config.ts, vitest.faults.config.ts, vitest.scale.config.ts).
const exclude = ['**/node_modules/**', '**/.data/**', '**/*.tooling.test.ts', '**/*.faults.test.ts', '**/*.scale.test.ts'];

/**
 * graphql ships CommonJS (`main`) and ESM (`module`) builds and no `exports` map. Node, and so
 * tsx in production, loads the CommonJS one everywhere; Vite would hand our sources the ESM one
 * while @apollo/gateway (CommonJS) uses the other, and graphql refuses schemas "from another
 * module or realm". Resolving it as Node does keeps tests on the production module graph.
 */
const resolve = { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] };

/** Workspace packages export `source` (their TypeScript) beside `default` (compiled dist/): tests run the sources. */
const ssr = { resolve: { conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')] } };

/** Unit and integration files (below): at least two at a time, whatever Vitest's default. */
const FIRST_GROUP_WORKERS = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          maxWorkers: FIRST_GROUP_WORKERS,
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude,
          // Unit and integration files run first, side by side, at least two at a time: they mostly
          // wait on their databases, and none asserts a latency. Vitest's default (one worker fewer
          // than there are cores) would run them one by one on a 2-core machine. Files of a worker
          // share its module graph (isolate: false): each starts its own service and database
          // anyway, and the modules (Prisma, Apollo, PGlite's empty cluster) load once per worker.
          sequence: { groupOrder: 0 },
          maxWorkers: FIRST_GROUP_WORKERS,
          isolate: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude,
          // After the others, with Vitest's default workers: some e2e files assert latencies under
          // load (planning-budget, subgraph-resilience), which a second busy worker would distort.
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Files of one worker share its process, so they share one whole stack started by the
          // first that asks (sharedTestStack, packages/stack/src/testing.ts) instead of one each.
          // The global setup names those stacks and drops their databases after the run.
          // docs/testing.md says which files use it and which start their own.
          isolate: false,
          globalSetup: ['packages/stack/test/global-setup.ts'],
        },
      },
    ],
  },
});
