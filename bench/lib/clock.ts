/**
 * One clock for the benchmark process and its subscriber process: wall-clock milliseconds with
 * performance.now()'s resolution. performance.now() alone counts from each process's own start,
 * so it cannot time an event published in one process and received in another; timeOrigin is
 * read together with the monotonic clock at process start, so the sum agrees across processes on
 * one machine to well under a millisecond.
 */
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.timeOrigin + performance.now();
