// Loaded into the router with `--import` when `npm run bench:gateways` runs with
// BENCH_ALLOC_PROF=DIR (bench/gateways.ts): V8's sampling heap profiler, counting every sampled
// allocation, including the objects the garbage collector has since freed. `node --heap-prof`
// keeps only what is still alive when the process ends, which says where memory stays, not what
// keeps the collector busy; this says what the code allocates while it serves. The profile is
// written to DIR/Alloc.<row>.<pid>.heapprofile when the router stops, <row> the benchmark's row
// (BENCH_ALLOC_LABEL: router, router-dedup...; summary: allocation-summary.ts).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_ALLOC_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  // One sample per 32 KiB allocated on average: fine enough for shares of a few percent, cheap enough to serve under load.
  session.post('HeapProfiler.startSampling', { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // Answered at once: the session belongs to this thread.
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(join(dir, `Alloc.${process.env.BENCH_ALLOC_LABEL ?? 'router'}.${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  };
  // Before the router's own handler, which stops it; `exit` for any other way out.
  process.prependListener('SIGTERM', write);
  process.prependListener('SIGINT', write);
  process.on('exit', write);
}
