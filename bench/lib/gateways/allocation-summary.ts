/**
 * What the router allocated, by function and by package: what `BENCH_ALLOC_PROF=DIR npm run
 * bench:gateways` wrote (allocation-sampling.mjs).
 *
 *   npx tsx bench/lib/gateways/allocation-summary.ts FILE.heapprofile [TOP]
 *
 * Each sampled allocation is charged to the function that made it (its self size); objects the
 * collector has freed since count too, so the shares are of everything allocated over the
 * router's life (its start and all the rounds), which is what the garbage collector's time grows
 * with. "(native)" are V8 builtins called from JavaScript (Object.keys, Array.prototype.push...).
 */
import { readFileSync } from 'node:fs';
import { functionLabel, packageOf, topLines } from './code-location.ts';

interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationNode[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: npx tsx bench/lib/gateways/allocation-summary.ts FILE.heapprofile [TOP]');
const top = Number(topArg ?? 30);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocationNode };

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
const add = (m: Map<string, number>, key: string, bytes: number) => m.set(key, (m.get(key) ?? 0) + bytes);
for (const stack = [head]; stack.length; ) {
  const node = stack.pop()!;
  stack.push(...node.children);
  if (!node.selfSize) continue;
  total += node.selfSize;
  add(byFunction, functionLabel(node.callFrame), node.selfSize);
  add(byPackage, node.callFrame.url ? packageOf(node.callFrame.url) : '(native)', node.selfSize);
}

const list = (m: Map<string, number>, n: number) => topLines(m, n, total, (bytes) => `${(bytes / 2 ** 20).toFixed(0).padStart(6)} MiB`);

console.log(`${file}: ${(total / 2 ** 20).toFixed(0)} MiB allocated (sampled)`);
console.log(`\nallocated by package:\n${list(byPackage, 25)}`);
console.log(`\ntop ${top} functions by bytes allocated:\n${list(byFunction, top)}`);
