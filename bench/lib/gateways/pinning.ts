/**
 * CPU pinning for `npm run bench:gateways` with taskset(1): each gateway runs alone on one core
 * (BENCH_GATEWAY_CORE, default the last one), and the benchmark process pins itself to the other
 * cores before it starts anything, so that the subgraphs and the stack it forks (which inherit its
 * affinity) and its own load generator never run on the gateways' core. Without taskset, or on a
 * single core, nothing is pinned and the run says so.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** The core every gateway runs on, or undefined when nothing is pinned. */
  gatewayCore: number | undefined;
  /** The cores the benchmark, the subgraphs and the stack run on ("0", "0-2"). */
  otherCores: string | undefined;
  /** Why nothing (or less than asked) is pinned; empty when all is as asked. */
  warnings: string[];
  /**
   * The command line that starts `argv` on the gateways' core; with `cores` > 1 (a router of several
   * worker processes), on that core and the first cores - 1 of the others, which it then shares.
   */
  command(argv: string[], cores?: number): { file: string; args: string[] };
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function setUpPinning(requestedCore: string | undefined): Pinning {
  const warnings: string[] = [];
  const cores = availableParallelism();
  const unpinned = (why: string): Pinning => {
    warnings.push(why);
    return { gatewayCore: undefined, otherCores: undefined, warnings, command: ([file, ...args]) => ({ file: file!, args }) };
  };
  if (!hasTaskset()) return unpinned('taskset not found (util-linux): gateways are NOT pinned to a core; they share the CPU with the subgraphs and the load generator.');
  if (cores < 2) return unpinned(`only ${cores} core: gateways are NOT pinned (they would share their core with the subgraphs and the load generator anyway).`);
  const gatewayCore = requestedCore === undefined ? cores - 1 : Number(requestedCore);
  if (!Number.isInteger(gatewayCore) || gatewayCore < 0 || gatewayCore >= cores) throw new Error(`BENCH_GATEWAY_CORE=${requestedCore}: must be a core between 0 and ${cores - 1}`);
  const others = Array.from({ length: cores }, (_, i) => i).filter((i) => i !== gatewayCore);
  const otherCores = others.join(',');
  try {
    // -a: every thread of this process (libuv's pool included); children forked later inherit it.
    execFileSync('taskset', ['-a', '-p', '-c', otherCores, String(process.pid)], { stdio: 'ignore' });
  } catch (e) {
    warnings.push(`could not pin the benchmark process to cores ${otherCores} (${(e as Error).message}); the subgraphs and the load generator may run on the gateways' core.`);
  }
  return {
    gatewayCore,
    otherCores,
    warnings,
    command: (argv, n = 1) => ({ file: 'taskset', args: ['-c', [gatewayCore, ...others.slice(0, n - 1)].join(','), ...argv] }),
  };
}
