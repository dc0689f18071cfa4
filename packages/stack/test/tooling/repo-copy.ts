/**
 * A copy of this repository in a temporary directory, for tests that run the repository's own
 * commands (npm run typecheck, build, ...) without touching the working tree: the files git knows
 * (tracked, and new ones not ignored; not dist/, src/generated/, .turbo/ or .data/), and a
 * node_modules whose packages are this checkout's installed ones but whose @campus/* workspaces
 * are the copy's own, as `npm ci` in the copy would have linked them. A workspace's own
 * node_modules (where npm puts a version that differs from the one hoisted to the root, as the
 * kit's OpenTelemetry SDK does) is linked into the copy's workspace the same way.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export const REPO_ROOT = new URL('../../../../', import.meta.url).pathname;

/** node_modules entries that are caches written by tools (tsc, vite): the copy gets its own. */
const CACHES = new Set(['.cache', '.vite', '.vite-temp', '@campus']);

export interface RepoCopy {
  dir: string;
  remove(): void;
}

export function copyRepository(label: string): RepoCopy {
  const dir = mkdtempSync(join(tmpdir(), `campus-${label}-`));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(REPO_ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(dir, file));
  }

  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@campus'), { recursive: true });
  for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (!CACHES.has(entry)) symlinkSync(join(REPO_ROOT, 'node_modules', entry), join(modules, entry));
  }
  for (const entry of readdirSync(join(REPO_ROOT, 'node_modules', '@campus'))) {
    const workspace = relative(REPO_ROOT, realpathSync(join(REPO_ROOT, 'node_modules', '@campus', entry)));
    symlinkSync(join(dir, workspace), join(modules, '@campus', entry));
    const own = join(REPO_ROOT, workspace, 'node_modules');
    if (existsSync(own)) linkInstalled(own, join(dir, workspace, 'node_modules'));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Links each installed package of `from` (a workspace's node_modules) into `to`, leaving tool caches out. */
function linkInstalled(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    if (!CACHES.has(entry)) symlinkSync(join(from, entry), join(to, entry));
  }
}
