/**
 * Where a profile's function lives, for the summaries of the router's CPU and allocation profiles
 * (profile-summary.ts, allocation-summary.ts).
 */

/** "npm <package>" for node_modules, Node's own module by name, "campus <workspace>/dist/<file or folder>" for the repository's. */
export function packageOf(url: string): string {
  if (!url) return '(V8/native)';
  // Node's own modules one by one: node:internal/deps/undici/undici is global fetch.
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!}`;
  }
  // The repository's own compiled code: "campus router/dist/edge", "campus packages/kit/dist/core".
  const own = /\/(router|packages\/[^/]+|subgraphs\/[^/]+)\/dist\/([^/]+)/.exec(url);
  return own ? `campus ${own[1]}/dist/${own[2]!.replace(/\.js$/, '')}` : url;
}

/** A function's name and where it is: "name  package/path:line", paths shortened to the package or the repository. */
export function functionLabel(callFrame: { functionName: string; url: string; lineNumber: number }): string {
  const { functionName, url, lineNumber } = callFrame;
  const path = url.replace(/^file:\/\//, '');
  const short = path.includes('node_modules/') ? path.replace(/^.*node_modules\//, '') : path.replace(/^.*\/(router|packages|subgraphs)\//, 'campus $1/');
  const where = url ? `${short}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}  ${where}`;
}

/** The `n` largest entries of `m` as lines: share of `total`, the amount as `format` writes it, the key. */
export function topLines(m: Map<string, number>, n: number, total: number, format: (amount: number) => string): string {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, amount]) => `${((100 * amount) / total).toFixed(1).padStart(5)} %  ${format(amount)}  ${k}`)
    .join('\n');
}
