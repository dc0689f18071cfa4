/**
 * Node's flags for a process that runs WebAssembly once and exits: the initdb of the empty PGlite
 * cluster (pglite-template.ts) and the Prisma CLI's generation (scripts/generate.ts).
 *
 * V8 first compiles WebAssembly with its baseline compiler (Liftoff) and then optimizes the hot
 * functions again on background threads (TurboFan). For code that runs for a few seconds, once,
 * the optimizing costs more than it saves: an initdb took 7.8 s of CPU with it and 4.4 s without
 * (docs/performance.md, "Readiness and the first start's WebAssembly"). V8's flags belong to the
 * whole process, so this is for child processes only: a process that keeps its databases open
 * keeps the optimizing compiler.
 */
export const ONE_SHOT_WASM_NODE_FLAGS: readonly string[] = ['--liftoff-only'];
