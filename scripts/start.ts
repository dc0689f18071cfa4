/**
 * npm start: the embedded default (packages/stack/src/main.ts), after generating what it runs on,
 * in this one process, run from its sources' compiled mirror rather than under tsx
 * (packages/stack/src/run-typescript.mjs; docs/builds.md).
 *
 * What it runs on is the Prisma clients (scripts/generate.ts, `only: 'prisma'`), generated when
 * their inputs changed: on a restart the check costs a fraction of a second, not another npm and
 * tsx process. The resolver types and the supergraph files are left to the commands that read
 * them, each of which generates first (npm test, typecheck, build, dev, compose): the services
 * import the resolver types as types only, which tsx drops, and the stack composes its own
 * supergraph. What the start waits for that needs no generated code begins first
 * (packages/stack/src/start-early.ts): on a fresh clone it runs while the clients are generated.
 */
import { startEarly } from '@campus/stack/start-early';
import { syncTypeScriptMirror } from '../packages/stack/src/typescript-mirror.mjs';

await startEarly(process.env);

// Imported once startEarly has begun: a static import would load the kit's tooling (PGlite) before
// the planner thread starts.
const { generate } = await import('./generate.ts');
const generating = generate({ only: 'prisma' });
// While the Prisma clients are generated (seconds on a fresh clone, in processes of their own), this
// thread loads what needs no generated code: the router and the kit, most of what the stack loads.
const loading = Promise.all([import('@campus/router'), import('@campus/kit/subgraph')]);
const failures = await generating;
if (failures.length) {
  for (const failure of failures) console.error(failure);
  process.exit(1);
}
await loading;

// Run from the sources' mirror (package.json's start: packages/stack/src/run-typescript.mjs), the
// clients just generated are compiled into it before the services import them.
await syncTypeScriptMirror();
await import('@campus/stack/main');
