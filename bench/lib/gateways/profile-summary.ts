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
import { functionLabel, packageOf, topLines } from './code-location.ts';

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

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url } = node.callFrame;
  const key = functionLabel(node.callFrame);
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const pkg = url ? packageOf(url) : functionName.startsWith('(') ? functionName : '(V8/native)';
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}

const list = (m: Map<string, number>, n: number) => topLines(m, n, total, (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`);

console.log(`${file}: ${(total / 1e6).toFixed(1)} s busy (idle left out), ${profile.samples.length} samples`);
console.log(`\nself time by package:\n${list(byPackage, 25)}`);
console.log(`\ntop ${top} functions by self time:\n${list(byFunction, top)}`);
