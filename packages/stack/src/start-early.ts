/**
 * What the start of the embedded default (packages/stack/src/main.ts) waits for that needs none of
 * the modules it loads: begun first, it runs while they load (seconds, under tsx), and on a fresh
 * clone while `npm start` generates the Prisma clients (scripts/start.ts). Once per process.
 *
 *   - The router's query planner thread, told what that router will read: the supergraph the
 *     stack composed into the data directory (a restart on the same ports serves the same one,
 *     stack.ts) and the persisted-query manifest it warms its plans from, with the defaults of
 *     router/src/config.ts (router/src/planning/planner-thread.ts).
 *   - The embedded databases: on a first start the empty cluster is unpacked into each new
 *     directory (once a worker thread has made it, on a fresh clone), then this thread opens them,
 *     between the loads of the services' modules (packages/kit/src/tooling/pglite-template.ts),
 *     where stack.ts opens them: <${NAME}_DATA_DIR, or dataDir/<service>>/pglite for each service
 *     without a database URL.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareEarlyPlannerThread, startPlannerThreadEarly } from '@campus/router/planning/planner-thread';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;

/** Where the embedded default keeps its data: CAMPUS_DATA_DIR, or .data/ in the repository. */
export function embeddedDataDir(env: Record<string, string | undefined>): string {
  return env.CAMPUS_DATA_DIR ?? join(REPO_ROOT, '.data');
}

let started: Promise<void> | undefined;

export function startEarly(env: Record<string, string | undefined>): Promise<void> {
  started ??= (async () => {
    const dataDir = embeddedDataDir(env);
    startPlannerThreadEarly();
    prepareEarlyPlannerThread({
      supergraphPath: join(dataDir, 'supergraph.graphql'),
      manifestPath: env.QUERY_PLAN_WARMUP === 'off' ? undefined : resolve(env.TRUSTED_DOCUMENTS_MANIFEST ?? join(REPO_ROOT, 'router', 'persisted-queries.json')),
    });
    // After the thread has started: PGlite is the first large module this loads.
    const { openPgliteDirsEarly, prepareEmptyPgliteDirs } = await import('@campus/kit/tooling');
    const pgliteDirs = readdirSync(join(REPO_ROOT, 'subgraphs'))
      .filter((name) => existsSync(join(REPO_ROOT, 'subgraphs', name, 'prisma', 'schema.prisma')))
      .filter((name) => !env[`${name.toUpperCase()}_DATABASE_URL`])
      .map((name) => join(env[`${name.toUpperCase()}_DATA_DIR`] ?? join(dataDir, name), 'pglite'));
    prepareEmptyPgliteDirs(pgliteDirs);
    openPgliteDirsEarly(pgliteDirs);
  })();
  return started;
}
