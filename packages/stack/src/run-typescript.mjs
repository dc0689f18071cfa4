/**
 * node packages/stack/src/run-typescript.mjs <file.ts> [args...]
 *
 * Runs a TypeScript entry (`npm start`: scripts/start.ts) from its mirror (typescript-mirror.mjs),
 * with no loader hooks: a restart loads JavaScript as a build would, a source changed since the
 * last start is compiled again first, and stack traces name the sources (mirrored-stack-traces.mjs).
 * Plain JavaScript, so that Node runs it with nothing compiled.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mapStackTracesToSources } from './mirrored-stack-traces.mjs';
import { mirrorTypeScript } from './typescript-mirror.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node packages/stack/src/run-typescript.mjs <file.ts> [args...]');
  process.exit(1);
}
mapStackTracesToSources();
let mirror;
try {
  [mirror] = await mirrorTypeScript([resolve(entry)]);
} catch (error) {
  // esbuild's own message names the source, the line and what is wrong with it.
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
process.argv = [process.argv[0], resolve(entry), ...args];
await import(pathToFileURL(mirror).href);
