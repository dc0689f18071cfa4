/**
 * Top self-time of a V8 CPU profile (node --cpu-prof), by function and by package: what
 * `BENCH_CPU_PROF=DIR npm run bench:gateways` wrote for the router.
 *
 *   npx tsx bench/lib/gateways/profile-summary.ts FILE.cpuprofile [TOP]
 *
 * Self time is each sample's time delta charged to the function on top of the stack when it was
 * taken; "(program)" and "(garbage collector)" are V8's own buckets. Percentages are of the busy
 * time ("(idle)" left out). The profile covers the router's whole life: its start (module loading,
 * a second or two) and the rounds of the other gateways (idle) are in it too.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: npx tsx bench/lib/gateways/profile-summary.ts FILE.cpuprofile [TOP]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
for (const id of idleIds) selfUs.delete(id);
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** "npm <package>" for node_modules, Node's own module by name, "campus <workspace>/dist/<file or folder>" for the repository's. */
function packageOf(url: string): string {
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

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const path = url.replace(/^file:\/\//, '');
  const short = path.includes('node_modules/') ? path.replace(/^.*node_modules\//, '') : path.replace(/^.*\/(router|packages|subgraphs)\//, 'campus $1/');
  const where = url ? `${short}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'}  ${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const pkg = url ? packageOf(url) : functionName.startsWith('(') ? functionName : '(V8/native)';
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const list = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
    .join('\n');

console.log(`${file}: ${(total / 1e6).toFixed(1)} s busy (idle left out), ${profile.samples.length} samples`);
console.log(`\nself time by package:\n${list(byPackage, 25)}`);
console.log(`\ntop ${top} functions by self time:\n${list(byFunction, top)}`);
