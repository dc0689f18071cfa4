/**
 * The supergraph, read from a file and reloaded when the file changes (no restart). Editors and
 * `npm run compose` replace files by renaming, so the directory is watched, not the file. A file
 * that does not exist yet is waited for: the router is up (health says 503) until it appears.
 * An invalid new supergraph is logged and the previous one keeps serving.
 */
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '@campus/kit/core';

const DEBOUNCE_MS = 50;

export function supergraphFromFile(path: string, logger: Logger): SupergraphSdlHook {
  return async ({ update }) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let last = '';
    const read = () => (existsSync(path) ? readFileSync(path, 'utf8') : '');

    const first = await new Promise<string>((resolveFirst) => {
      const onChange = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const sdl = read();
          if (!sdl || sdl === last) return;
          if (!last) {
            last = sdl;
            resolveFirst(sdl);
            return;
          }
          last = sdl;
          try {
            update(sdl);
            logger.info({ path }, 'supergraph reloaded');
          } catch (e) {
            logger.error({ err: e, path }, 'new supergraph refused; still serving the previous one');
          }
        }, DEBOUNCE_MS);
      };
      watcher = watch(dirname(path), (_event, file) => {
        if (!file || file === basename(path)) onChange();
      });
      const initial = read();
      if (initial) {
        last = initial;
        resolveFirst(initial);
      } else {
        logger.warn({ path }, 'waiting for the supergraph file to appear (run `npm run compose`)');
      }
    });

    return {
      supergraphSdl: first,
      cleanup: async () => {
        clearTimeout(timer);
        watcher?.close();
      },
    };
  };
}
