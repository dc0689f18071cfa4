/**
 * Stack traces that name the TypeScript sources, not their mirrors (typescript-mirror.mjs). Node's
 * own source-map support (`--enable-source-maps`, what tsx turns on) reads and parses the map of
 * every module as it loads, the dependencies' included; this reads the map of a mirrored file only
 * when a stack through it is formatted, once per file. Other frames are left as V8 writes them.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MIRROR_PATTERN } from './typescript-mirror.mjs';

const maps = new Map();

/** The parsed map of a mirror, or null (none, unreadable, not a mirror). */
function mapOf(mirrorUrl) {
  let map = maps.get(mirrorUrl);
  if (map === undefined) {
    map = null;
    try {
      const file = fileURLToPath(mirrorUrl);
      const source = MIRROR_PATTERN.exec(file);
      if (source) map = { source: `${source[1]}/${source[2]}.ts`, map: new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) };
    } catch {
      map = null;
    }
    maps.set(mirrorUrl, map);
  }
  return map;
}

function formatFrame(frame) {
  const text = frame.toString();
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file?.startsWith('file:') || !file.includes('/campus-typescript/') || line == null || column == null) return text;
  const mapped = mapOf(file);
  const entry = mapped?.map.findEntry(line - 1, column - 1);
  if (!entry || entry.originalLine === undefined) return text;
  return text.replace(`${file}:${line}:${column}`, `${mapped.source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}

export function mapStackTracesToSources() {
  Error.prepareStackTrace = (error, frames) => {
    let header;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = '<error>';
    }
    return frames.length ? `${header}\n    at ${frames.map(formatFrame).join('\n    at ')}` : header;
  };
}
