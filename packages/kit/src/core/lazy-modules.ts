/**
 * Packages a process loads only when it uses them. A router or service without REDIS_URL never
 * talks to Redis, and one whose output is not a terminal never pretty-prints its logs, so neither
 * pays for loading ioredis or pino-pretty at start (docs/performance.md, "Start time"). Both are
 * CommonJS, so a synchronous require keeps the callers' signatures as they were.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** ioredis's `Redis` class, loaded on first use. */
export function redisClass(): typeof import('ioredis').Redis {
  return (require('ioredis') as typeof import('ioredis')).Redis;
}

/** pino-pretty's stream factory, loaded on first use. */
export function pinoPretty(): (options?: import('pino-pretty').PrettyOptions) => import('pino-pretty').PrettyStream {
  return require('pino-pretty') as typeof import('pino-pretty');
}
