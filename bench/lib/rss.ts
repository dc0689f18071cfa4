/**
 * Resident memory of another process, read from /proc (Linux) rather than asked of the process: a
 * router whose event loop is stuck planning cannot answer an IPC message (memory-probe.mjs), and
 * that is when its memory matters. Elsewhere the figures are NaN and print as "n/a".
 */
import { readFileSync } from 'node:fs';

/** VmRSS (now) and VmHWM (the peak since the process started), in bytes. */
export function rssOf(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

export interface RssWatch {
  /** Highest RSS sampled since the last reset (a phase's peak). */
  peak(): number;
  reset(): void;
  stop(): void;
}

/**
 * Samples a process's RSS every `everyMs`; VmHWM alone cannot tell one phase's peak from another's.
 * `read`: what is sampled (default the process's own RSS; a process tree's sum for a router of
 * several workers, bench/lib/gateways/gateway-process.ts treeRss).
 */
export function watchRss(pid: number, everyMs = 200, read: (pid: number) => number = (p) => rssOf(p).rss): RssWatch {
  let peak = Number.NaN;
  const sample = () => {
    const rss = read(pid);
    if (Number.isNaN(rss)) return;
    peak = Number.isNaN(peak) ? rss : Math.max(peak, rss);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    peak: () => (sample(), peak),
    reset: () => {
      peak = Number.NaN;
      sample();
    },
    stop: () => clearInterval(timer),
  };
}
