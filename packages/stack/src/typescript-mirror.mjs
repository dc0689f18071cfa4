/**
 * The TypeScript sources a process runs, as JavaScript files Node loads with no loader hooks: `npm
 * start` (run-typescript.mjs). Under tsx every module the process loads, a dependency's too, passes
 * through tsx's resolve and load hooks, and tsx turns Node's source maps on, so Node reads and parses
 * the `.map` file of every dependency that ships one: 2.5 to 4 s of a restart (docs/performance.md,
 * "Start time"). Here each source file reached from the entry is compiled once by esbuild into a
 * mirror beside the installed packages and compiled again only when its content changed: a change
 * takes effect on the next start, with no build step (docs/builds.md).
 *
 * Where a file lands: `<package>/node_modules/.cache/campus-typescript/<path in the package>.mjs`,
 * `<package>` being the workspace holding the source (the repository root for scripts/). From there
 * Node finds a dependency where it would from the source (the workspace's node_modules, then the
 * root's), and `.mjs` makes it a module whatever package.json Node finds above it. In each file:
 *   - imports of sources (relative, or a workspace package resolved with the `source` condition)
 *     point at their mirrors; imports of dependencies stay as written; imports of the repository's
 *     plain JavaScript (the planner worker, the federation adapter) point at the original file, so
 *     there is one instance of each module;
 *   - `import.meta.url`, `.dirname` and `.filename` are the source's, so paths computed from them
 *     (schema.graphql, migrations, the planner worker, the repository root) are the same as under tsx;
 *   - a linked source map, read only when a stack trace is formatted (mirrored-stack-traces.mjs).
 *
 * A manifest records, per source, the sha256 of its content and what it imports, so a start with
 * nothing changed reads and hashes the reachable sources and compiles nothing. A file imported but
 * missing (a Prisma client not generated yet) is skipped; `syncTypeScriptMirror()` after the
 * generation compiles it (scripts/start.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const MIRROR_DIR = join('node_modules', '.cache', 'campus-typescript');
const MANIFEST_FILE = join(REPO_ROOT, MIRROR_DIR, 'manifest.json');
/** How a mirror path maps back to its source (mirrored-stack-traces.mjs). */
export const MIRROR_PATTERN = /^(.*)\/node_modules\/\.cache\/campus-typescript\/(.*)\.mjs$/;

/**
 * What every compiled file depends on besides its own content: this compiler, esbuild's version,
 * the tsconfig files esbuild reads and the workspaces' package.json (their exports decide where an
 * import of `@campus/...` lands). When any changes, every file is compiled again.
 */
function settingsDigest() {
  const esbuildPackage = createRequire(import.meta.url).resolve('esbuild/package.json');
  const hash = createHash('sha256').update(readFileSync(esbuildPackage)).update(readFileSync(new URL(import.meta.url)));
  for (const dir of [REPO_ROOT, ...workspaceDirs()]) {
    for (const name of ['package.json', 'tsconfig.json', 'tsconfig.base.json', 'tsconfig.src.base.json']) {
      const file = join(dir, name);
      if (existsSync(file)) hash.update(file).update(readFileSync(file));
    }
  }
  return hash.digest('hex');
}

function workspaceDirs() {
  const dirs = [];
  for (const pattern of JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).workspaces ?? []) {
    if (!pattern.endsWith('/*')) {
      dirs.push(join(REPO_ROOT, pattern));
      continue;
    }
    const parent = join(REPO_ROOT, pattern.slice(0, -2));
    for (const name of existsSync(parent) ? readdirSync(parent) : []) {
      if (existsSync(join(parent, name, 'package.json'))) dirs.push(join(parent, name));
    }
  }
  return dirs;
}

/** The directory of the package.json nearest above `file`. */
const packageDirCache = new Map();
function packageDirOf(file) {
  const dir = dirname(file);
  let found = packageDirCache.get(dir);
  if (found === undefined) {
    found = existsSync(join(dir, 'package.json')) || dir === REPO_ROOT || dirname(dir) === dir ? dir : packageDirOf(dir);
    packageDirCache.set(dir, found);
  }
  return found;
}

/** Where the JavaScript of the source `file` lands. */
export function mirrorPathOf(file) {
  const packageDir = packageDirOf(file);
  return join(packageDir, MIRROR_DIR, relative(packageDir, file).replace(/\.ts$/, '.mjs'));
}

/** A TypeScript source of the repository (`.ts`; declarations and installed packages are not). */
const isSource = (file) => file.endsWith('.ts') && !/\.d\.[cm]?ts$/.test(file) && !file.split(sep).includes('node_modules');

function writeAtomically(file, contents) {
  mkdirSync(dirname(file), { recursive: true });
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, contents);
  renameSync(staging, file);
}

function readManifest(settings) {
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8'));
    if (manifest.settings === settings) return manifest;
  } catch {
    // None yet, or unreadable: everything is compiled.
  }
  return { settings, files: {} };
}

/**
 * `import.meta` of the source, written into its mirror (above). esbuild leaves `import.meta` as it
 * is in ES module output; replacing it in the output rather than the input spares esbuild a call
 * into this process per file (only the columns after it on that line move in the source map).
 */
function withSourceImportMeta(code, file) {
  return code
    .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(file).href))
    .replaceAll('import.meta.dirname', JSON.stringify(dirname(file)))
    .replaceAll('import.meta.filename', JSON.stringify(file));
}

/**
 * The file an import of a workspace package (`@campus/kit/core`) means to tsx with the `source`
 * condition: its package.json `exports`, an exact subpath or a `./*` pattern (docs/builds.md).
 */
function resolveWorkspaceImport(specifier) {
  const [, scope, name, rest] = /^(@[^/]+)\/([^/]+)(\/.*)?$/.exec(specifier) ?? [];
  if (!name) return undefined;
  const packageDir = join(REPO_ROOT, 'node_modules', scope, name);
  let exports;
  try {
    exports = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).exports;
  } catch {
    return undefined;
  }
  const subpath = `.${rest ?? ''}`;
  const pick = (target, star) => {
    const path = typeof target === 'string' ? target : target?.source;
    return typeof path === 'string' ? realpathSync(join(packageDir, star === undefined ? path : path.replace('*', star))) : undefined;
  };
  if (exports?.[subpath] !== undefined) return pick(exports[subpath]);
  for (const [key, target] of Object.entries(exports ?? {})) {
    const star = key.indexOf('*');
    if (star < 0 || !subpath.startsWith(key.slice(0, star)) || !subpath.endsWith(key.slice(star + 1))) continue;
    return pick(target, subpath.slice(star, subpath.length - (key.length - star - 1)));
  }
  return undefined;
}

/** Compiles `files` (sources) into their mirrors; resolves with the sources each imports. */
async function compile(files) {
  const imports = new Map(files.map((f) => [f, new Set()]));
  const relativeSpecifier = (from, to) => {
    const path = relative(dirname(from), to).split(sep).join('/');
    return path.startsWith('.') ? path : `./${path}`;
  };
  const plugin = {
    name: 'campus-typescript-mirror',
    setup(build) {
      build.onResolve({ filter: /^(\.|@campus\/)/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        let target;
        if (args.path.startsWith('.')) target = resolve(args.resolveDir, args.path);
        else {
          target = resolveWorkspaceImport(args.path);
          if (!target) return { errors: [{ text: `no \`source\` export for ${args.path} in its package.json` }] };
        }
        if (isSource(target)) {
          imports.get(args.importer)?.add(target);
          return { path: relativeSpecifier(mirrorPathOf(args.importer), mirrorPathOf(target)), external: true };
        }
        // The repository's plain JavaScript and data: the original file, one instance of each.
        return { path: pathToFileURL(target).href, external: true };
      });
    },
  };
  // Loaded only when something is to be compiled: a restart with nothing changed does without it.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: files,
    absWorkingDir: REPO_ROOT,
    outbase: REPO_ROOT,
    // Nothing is written there (write: false): output paths name their sources, relative to it.
    outdir: join(REPO_ROOT, MIRROR_DIR, 'out'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Dependencies stay as written; the plugin above rewrites imports of the repository's files.
    packages: 'external',
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [plugin],
  });
  for (const output of result.outputFiles) {
    const source = join(REPO_ROOT, relative(join(REPO_ROOT, MIRROR_DIR, 'out'), output.path)).replace(/\.mjs(\.map)?$/, '.ts');
    const target = mirrorPathOf(source) + (output.path.endsWith('.map') ? '.map' : '');
    writeAtomically(target, output.path.endsWith('.map') ? output.contents : withSourceImportMeta(output.text, source));
  }
  return imports;
}

let state;

/** Every source under the workspaces' src/: compiled in one batch when stale (mirrorTypeScript). */
function workspaceSources() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (isSource(path)) files.push(path);
    }
  };
  for (const dir of workspaceDirs()) if (existsSync(join(dir, 'src'))) walk(join(dir, 'src'));
  return files;
}

/**
 * Brings the mirror of everything `entries` reach up to date, compiling what changed; returns the
 * mirror of each entry. Throws esbuild's message when a reachable source does not compile.
 */
export async function mirrorTypeScript(entries) {
  const settings = settingsDigest();
  const manifest = readManifest(settings);
  state = { entries: entries.map((e) => resolve(e)) };
  let changed = false;
  const hashes = new Map();
  const hashOf = (file) => {
    let hash = hashes.get(file);
    if (!hash) hashes.set(file, (hash = createHash('sha256').update(readFileSync(file)).digest('hex')));
    return hash;
  };
  const isFresh = (file) => manifest.files[relative(REPO_ROOT, file)]?.hash === hashOf(file) && existsSync(mirrorPathOf(file));
  const record = async (stale) => {
    const imports = await compile(stale);
    for (const file of stale) manifest.files[relative(REPO_ROOT, file)] = { hash: hashOf(file), imports: [...imports.get(file)].map((i) => relative(REPO_ROOT, i)) };
    changed = true;
  };

  // Every stale source of the workspaces in one esbuild run (a fresh clone: all of them, in well
  // under a second), rather than one run per level of imports. A source that does not compile
  // fails the whole run; then only what the entries reach is compiled, below, so a broken file
  // nothing imports does not stop the start.
  const staleSources = [...new Set([...state.entries, ...workspaceSources()])].filter((f) => existsSync(f) && !isFresh(f));
  if (staleSources.length > 1) await record(staleSources).catch(() => {});

  const seen = new Set();
  let frontier = [...state.entries];
  while (frontier.length) {
    const stale = [];
    const next = [];
    for (const file of frontier) {
      if (seen.has(file) || !existsSync(file)) continue;
      seen.add(file);
      if (isFresh(file)) next.push(...manifest.files[relative(REPO_ROOT, file)].imports.map((i) => join(REPO_ROOT, i)));
      else stale.push(file);
    }
    if (stale.length) {
      await record(stale);
      for (const file of stale) next.push(...manifest.files[relative(REPO_ROOT, file)].imports.map((i) => join(REPO_ROOT, i)));
    }
    frontier = next;
  }
  if (changed) writeAtomically(MANIFEST_FILE, JSON.stringify(manifest));
  return state.entries.map(mirrorPathOf);
}

/**
 * Compiles what the entries reach that changed or appeared since `mirrorTypeScript` (a Prisma client
 * generated meanwhile). Does nothing in a process not started by run-typescript.mjs (tsx, vitest).
 */
export async function syncTypeScriptMirror() {
  if (state) await mirrorTypeScript(state.entries);
}
