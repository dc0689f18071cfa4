/**
 * Memory of the benchmark process itself, which runs the subgraphs (the subscribers run in a
 * process of their own), after a full garbage collection: what the subgraph side of the open
 * subscriptions retains. `npm run bench:subscriptions` starts node without --expose-gc, so the
 * flag is set at run time; V8 then installs `gc` in contexts created afterwards.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export async function ownMemory(): Promise<NodeJS.MemoryUsage> {
  gc();
  gc();
  return process.memoryUsage();
}
